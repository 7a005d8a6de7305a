//! `baseline fmt`: canonical layout of KDL files, which never loses or changes a character of
//! meaning or commentary.
//!
//! The `kdl` crate's document model drops or moves some of the text around nodes (slashdashed
//! entries and blocks, comments between entries, line continuations), so the layout is done
//! here, on a stream of tokens that keeps all of it: `lex` splits the file, `Parser` groups
//! the tokens into nodes, entries and the text between nodes, and `Printer` writes them again:
//! four spaces per level, one space between entries, one node per line, a run of blank lines as
//! one, LF newlines. Names, values and comments are kept as written; comments are re-indented,
//! line continuations (`\`) kept.
//!
//! Then [`verify`] compares the input and the output, independently of that layout code: the
//! same comments and tokens in the same order, the same non-blank characters, and the same
//! document for the KDL parser. A second pass must change nothing. Any difference refuses the
//! file, naming its line and what would be lost.

use std::borrow::Cow;
use std::fmt;

use kdl::KdlDocument;

use super::input;

const INDENT: &str = "    ";

/// The lines of a multi-line comment starting further right than this column are kept as
/// written rather than re-indented: padding each of many lines that far would make the output
/// many times the size of the input.
const MAX_REINDENT: usize = 256;

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FmtError {
    /// Not KDL v2, or nested deeper than baseline parses: `validate` says where and why.
    Invalid,
    /// Formatting would lose or change something on `line` of the input (counting every
    /// newline KDL recognises); `cause` says what, e.g. "formatting would drop the comment
    /// `/* why */`".
    Refused { line: usize, cause: String },
}

impl fmt::Display for FmtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FmtError::Invalid => write!(f, "not valid KDL v2"),
            FmtError::Refused { line, cause } => write!(f, "line {line}: {cause}"),
        }
    }
}

/// The formatted text of a KDL v2 document, checked: everything the input says (nodes,
/// entries, comments, slashdashed code) is in the output in the same order, the KDL parser
/// reads the same document from both, and formatting the output changes nothing.
pub fn format_kdl(text: &str) -> Result<String, FmtError> {
    if input::too_deep(text).is_some() {
        return Err(FmtError::Invalid);
    }
    let doc = KdlDocument::parse_v2(text).map_err(|_| FmtError::Invalid)?;
    let out = layout(text)?;
    compare(text, &doc, &out)?;
    let again = layout(&out)?;
    if again != out {
        let offset = out
            .char_indices()
            .zip(again.chars())
            .find(|((_, a), b)| a != b)
            .map_or(out.len().min(again.len()), |((i, _), _)| i);
        return Err(FmtError::Refused {
            line: input_line(text, &out, offset),
            cause: "formatting is not stable here: a second pass changes it again (a bug in fmt)"
                .into(),
        });
    }
    Ok(out)
}

/// Whether `after` says everything `before` says: the same comments, values and punctuation
/// (whitespace, `;` and line continuations aside; comments modulo their indentation) in the
/// same order, and the same document for the KDL parser. `Err` names the first line of
/// `before` where they differ, and what differs.
pub fn verify(before: &str, after: &str) -> Result<(), FmtError> {
    if input::too_deep(before).is_some() {
        return Err(FmtError::Invalid);
    }
    let doc_before = KdlDocument::parse_v2(before).map_err(|_| FmtError::Invalid)?;
    compare(before, &doc_before, after)
}

/// [`verify`], `before` parsed already.
fn compare(before: &str, doc_before: &KdlDocument, after: &str) -> Result<(), FmtError> {
    let (toks_before, toks_after) = (lex(before), lex(after));
    let sig_before = significant(before, &toks_before);
    let sig_after = significant(after, &toks_after);
    let differ = (0..sig_before.len().max(sig_after.len()))
        .find(|&k| sig_before.get(k).map(|s| &s.1) != sig_after.get(k).map(|s| &s.1));
    if let Some(k) = differ {
        let line_of = |k: usize| {
            sig_before
                .get(k)
                .or(sig_before.last())
                .map_or(1, |s| toks_before[s.0].line)
        };
        let cause = match (sig_before.get(k), sig_after.get(k)) {
            // What the output has here is not further on in the input: it is a change.
            (Some(b), Some(a)) if !sig_before[k + 1..].iter().any(|s| s.1 == a.1) => format!(
                "formatting would change {} into {}",
                describe(before, &toks_before[b.0]),
                describe(after, &toks_after[a.0])
            ),
            (Some(b), _) => format!(
                "formatting would drop {}",
                describe(before, &toks_before[b.0])
            ),
            (None, a) => format!(
                "formatting would add {}",
                a.map_or_else(|| "text".into(), |a| describe(after, &toks_after[a.0]))
            ),
        };
        return Err(FmtError::Refused {
            line: line_of(k),
            cause,
        });
    }
    if let Some(offset) = first_changed_char(before, after) {
        let tok = toks_before.iter().find(|t| t.end > offset);
        return Err(FmtError::Refused {
            line: tok.map_or_else(|| line_at(before, before.len()), |t| t.line),
            cause: match tok {
                Some(t) => format!("formatting would change {}", describe(before, t)),
                None => "formatting would add text at the end".into(),
            },
        });
    }
    if let Some(deep) = input::too_deep(after) {
        return Err(FmtError::Refused {
            line: input_line(before, after, deep.offset),
            cause: "formatting would nest blocks deeper than the input (a bug in fmt)".into(),
        });
    }
    let doc_after = match KdlDocument::parse_v2(after) {
        Ok(doc) => doc,
        Err(e) => {
            let offset = e.diagnostics.first().map_or(0, |d| d.span.offset());
            return Err(FmtError::Refused {
                line: input_line(before, after, offset),
                cause: "formatting would not give valid KDL (a bug in fmt)".into(),
            });
        }
    };
    let (mut nodes_before, mut nodes_after) = (Vec::new(), Vec::new());
    flatten(doc_before, 0, &mut nodes_before);
    flatten(&doc_after, 0, &mut nodes_after);
    let differ = (0..nodes_before.len().max(nodes_after.len()))
        .find(|&k| nodes_before.get(k).map(|n| &n.2) != nodes_after.get(k).map(|n| &n.2));
    if let Some(k) = differ {
        let node = nodes_before.get(k).or(nodes_before.last());
        return Err(FmtError::Refused {
            line: node.map_or(1, |n| line_at(before, n.0)),
            cause: match node {
                Some(n) => format!(
                    "formatting would change the meaning of the node `{}`",
                    excerpt(&n.1)
                ),
                None => "formatting would add a node".into(),
            },
        });
    }
    Ok(())
}

/// The formatted text, unchecked.
fn layout(text: &str) -> Result<String, FmtError> {
    let toks = lex(text);
    let mut parser = Parser { toks: &toks, i: 0 };
    let block = parser.block(true).map_err(|i| {
        let tok = toks.get(i).or(toks.last());
        FmtError::Refused {
            line: tok.map_or(1, |t| t.line),
            cause: match tok {
                Some(t) => format!("fmt cannot lay out {} here", describe(text, t)),
                None => "fmt cannot lay out this file".into(),
            },
        }
    })?;
    let mut printer = Printer {
        src: text,
        toks: &toks,
        out: String::new(),
        pending: None,
    };
    printer.block(&block, 0, false);
    // A byte order mark stays first: it is not a line of its own.
    if toks.first().is_some_and(|t| t.kind == Kind::Bom) {
        printer.out.insert(0, '\u{feff}');
    }
    Ok(printer.out)
}

// --- Tokens ---

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A run of spaces and tabs (KDL's unicode-space).
    Space,
    /// One newline: CRLF, CR, LF, NEL, VT, FF, LS or PS.
    Newline,
    /// `// ...` up to the newline, which is not part of it.
    LineComment,
    /// `/* ... */`, nested ones included.
    BlockComment,
    /// `/-`
    Slashdash,
    /// `\` outside a string: a line continuation.
    Escape,
    Semicolon,
    Open,
    Close,
    OpenParen,
    CloseParen,
    Equals,
    /// A string (identifier, quoted, raw, multi-line), number or keyword, as written.
    Atom,
    Bom,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    /// Byte range in the text.
    start: usize,
    end: usize,
    /// 1-based line and 0-based column (in characters) of the start.
    line: usize,
    col: usize,
}

/// A newline in KDL v2 (CRLF counts as one).
fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{85}' | '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}'
    )
}

/// KDL v2's unicode-space.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' ' | '\u{a0}' | '\u{1680}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    ) || ('\u{2000}'..='\u{200a}').contains(&c)
}

/// Ends an identifier, number or keyword.
fn ends_atom(c: char) -> bool {
    is_space(c) || is_newline(c) || "\\/(){};[]\"#=\u{feff}".contains(c)
}

/// The tokens of `text`, covering all of it. Meant for text the KDL parser accepted; anything
/// else still lexes (into tokens the parser then rejects), never panics.
fn lex(text: &str) -> Vec<Token> {
    let mut toks = Vec::new();
    let (mut line, mut col, mut after_cr) = (1, 0, false);
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        let next = rest[c.len_utf8()..].chars().next();
        let (kind, len) = match c {
            '\r' if next == Some('\n') => (Kind::Newline, 2),
            c if is_newline(c) => (Kind::Newline, c.len_utf8()),
            c if is_space(c) => (
                Kind::Space,
                rest.find(|c| !is_space(c)).unwrap_or(rest.len()),
            ),
            '/' if next == Some('/') => (
                Kind::LineComment,
                rest.find(is_newline).unwrap_or(rest.len()),
            ),
            '/' if next == Some('*') => (Kind::BlockComment, block_comment_len(rest)),
            '/' if next == Some('-') => (Kind::Slashdash, 2),
            '\\' => (Kind::Escape, 1),
            ';' => (Kind::Semicolon, 1),
            '{' => (Kind::Open, 1),
            '}' => (Kind::Close, 1),
            '(' => (Kind::OpenParen, 1),
            ')' => (Kind::CloseParen, 1),
            '=' => (Kind::Equals, 1),
            '\u{feff}' => (Kind::Bom, c.len_utf8()),
            '"' => (Kind::Atom, quoted_len(rest)),
            '#' if matches!(next, Some('#' | '"')) => (Kind::Atom, raw_len(rest)),
            c => (
                Kind::Atom,
                c.len_utf8()
                    + rest[c.len_utf8()..]
                        .find(ends_atom)
                        .unwrap_or(rest.len() - c.len_utf8()),
            ),
        };
        toks.push(Token {
            kind,
            start: i,
            end: i + len,
            line,
            col,
        });
        for c in rest[..len].chars() {
            if is_newline(c) {
                if !(c == '\n' && after_cr) {
                    line += 1;
                }
                col = 0;
            } else {
                col += 1;
            }
            after_cr = c == '\r';
        }
        i += len;
    }
    toks
}

/// Length of the (nested) block comment `rest` starts with; all of `rest` if unterminated.
fn block_comment_len(rest: &str) -> usize {
    let b = rest.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth = depth.saturating_sub(1);
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    rest.len()
}

/// Length of the quoted (`"..."` or `"""..."""`) string `rest` starts with.
fn quoted_len(rest: &str) -> usize {
    let multi = rest.starts_with("\"\"\"");
    let b = rest.as_bytes();
    let mut i = if multi { 3 } else { 1 };
    while i < b.len() {
        match b[i] {
            // An escape: the next byte is never the end (a multi-byte character's other bytes
            // are not ASCII, so stepping into one is harmless).
            b'\\' => i += 2,
            b'"' if !multi => return i + 1,
            b'"' if b[i..].starts_with(b"\"\"\"") => return i + 3,
            _ => i += 1,
        }
    }
    rest.len()
}

/// Length of the raw (`#"..."#`, `#"""..."""#`, any number of `#`) string `rest` starts with.
fn raw_len(rest: &str) -> usize {
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    let body = &rest[hashes..];
    let quotes = if body.starts_with("\"\"\"") {
        "\"\"\""
    } else if body.starts_with('"') {
        "\""
    } else {
        return hashes.max(1);
    };
    let close = format!("{quotes}{}", "#".repeat(hashes));
    body[quotes.len()..]
        .find(&close)
        .map_or(rest.len(), |p| hashes + quotes.len() + p + close.len())
}

/// Every newline as LF.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if !s.contains(|c: char| is_newline(c) && c != '\n') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace("\r\n", "\n").replace(is_newline, "\n"))
}

/// A comment as compared: LF newlines, no trailing blanks, and no indentation on the lines
/// after the first (which fmt re-indents).
fn normalize_comment(s: &str) -> String {
    normalize_newlines(s)
        .split('\n')
        .enumerate()
        .map(|(i, l)| if i == 0 { l.trim_end() } else { l.trim() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tokens that carry meaning or commentary (all but blanks, newlines, `;` and `\`), as
/// (index, text compared).
fn significant<'a>(text: &'a str, toks: &[Token]) -> Vec<(usize, Cow<'a, str>)> {
    toks.iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let s = &text[t.start..t.end];
            match t.kind {
                Kind::Space | Kind::Newline | Kind::Semicolon | Kind::Escape => None,
                Kind::LineComment | Kind::BlockComment => {
                    Some((i, Cow::Owned(normalize_comment(s))))
                }
                Kind::Atom => Some((i, normalize_newlines(s))),
                _ => Some((i, Cow::Borrowed(s))),
            }
        })
        .collect()
}

/// The byte offset in `before` of the first visible character (not a blank, `;` or `\`)
/// that `after` does not have in the same place; the end of `before` if `after` adds some.
fn first_changed_char(before: &str, after: &str) -> Option<usize> {
    let visible = |s: &str| -> Vec<(usize, char)> {
        s.char_indices()
            .filter(|&(_, c)| !c.is_whitespace() && c != ';' && c != '\\')
            .collect()
    };
    let (b, a) = (visible(before), visible(after));
    (0..b.len().max(a.len()))
        .find(|&k| b.get(k).map(|x| x.1) != a.get(k).map(|x| x.1))
        .map(|k| b.get(k).map_or(before.len(), |x| x.0))
}

/// The 1-based line of a byte offset, counting every KDL newline (CRLF once).
fn line_at(text: &str, offset: usize) -> usize {
    let mut line = 1;
    let mut chars = text[..offset.min(text.len())].chars().peekable();
    while let Some(c) = chars.next() {
        if is_newline(c) && !(c == '\r' && chars.peek() == Some(&'\n')) {
            line += 1;
        }
    }
    line
}

/// The line of `before` that holds what is at `offset` in `after`, once both have the same
/// significant tokens (the k-th of one is the k-th of the other).
fn input_line(before: &str, after: &str, offset: usize) -> usize {
    let (toks_before, toks_after) = (lex(before), lex(after));
    let (sig_before, sig_after) = (
        significant(before, &toks_before),
        significant(after, &toks_after),
    );
    let k = sig_after
        .iter()
        .position(|s| toks_after[s.0].end > offset)
        .unwrap_or(sig_after.len());
    sig_before
        .get(k)
        .or(sig_before.last())
        .map_or(1, |s| toks_before[s.0].line)
}

/// Some text for a message: its first line, at most 40 characters.
fn excerpt(s: &str) -> String {
    let first = s.split(is_newline).next().unwrap_or_default();
    let mut out: String = first.chars().take(40).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// What a token is, for a message.
fn describe(text: &str, tok: &Token) -> String {
    let s = excerpt(&text[tok.start..tok.end]);
    match tok.kind {
        Kind::LineComment | Kind::BlockComment => format!("the comment `{s}`"),
        Kind::Slashdash => "the `/-` that comments out what follows it".into(),
        Kind::Bom => "the byte order mark".into(),
        _ => format!("`{s}`"),
    }
}

/// The nodes of a parsed document, depth first: (offset of the name, name, everything the
/// document says about the node but its children's contents).
fn flatten(doc: &KdlDocument, depth: usize, out: &mut Vec<(usize, String, String)>) {
    for node in doc.nodes() {
        let entries: Vec<String> = node
            .entries()
            .iter()
            .map(|e| {
                format!(
                    "{:?}={:?}:{:?}",
                    e.name().map(|n| n.value()),
                    e.ty().map(|t| t.value()),
                    e.value()
                )
            })
            .collect();
        out.push((
            node.name().span().offset(),
            node.name().value().to_string(),
            format!(
                "{depth} {:?} {:?} {entries:?} {}",
                node.ty().map(|t| t.value()),
                node.name().value(),
                node.children().is_some()
            ),
        ));
        if let Some(children) = node.children() {
            flatten(children, depth + 1, out);
        }
    }
}

// --- Structure ---

/// The nodes of a document or of a `{ }` block, each with the text before it, and the text
/// after the last one.
struct Block {
    nodes: Vec<(Vec<Lead>, Node)>,
    tail: Vec<Lead>,
}

/// Between nodes: comments and newlines (blanks, `\` and a byte order mark dropped).
#[derive(Clone, Copy)]
enum Lead {
    Newline,
    Comment(usize),
}

struct Node {
    /// `/-` before the node, and the text between it and the node.
    slashdash: Option<Vec<Gap>>,
    /// Type annotation and name.
    head: Vec<Piece>,
    parts: Vec<Part>,
    /// Between the last part and the terminator.
    end: Vec<Gap>,
    term: Term,
}

/// An entry or a children block, with the text before it, maybe slashdashed.
struct Part {
    gap: Vec<Gap>,
    slashdash: Option<Vec<Gap>>,
    body: Body,
}

enum Body {
    Entry(Vec<Piece>),
    Block(Block),
}

/// A token of an entry or a node's head, and the text before it.
struct Piece {
    gap: Vec<Gap>,
    tok: usize,
}

/// What lies between two tokens of a node, blanks aside.
enum Gap {
    /// `/* */`
    Comment(usize),
    /// `//`, possible only after a `/-`.
    LineComment(usize),
    /// `\`, with the comments after it on its line.
    Escline(Vec<usize>),
    /// Another `/-` after a `/-`.
    Slashdash,
}

#[derive(Clone, Copy)]
enum Term {
    Newline,
    Semicolon,
    /// `// ...` ends the node (and its line).
    Comment(usize),
    /// The end of the file or of the block.
    End,
}

/// Tokens to structure. `Err` is the index of a token out of place (only in text the KDL
/// parser rejects).
struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Kind> {
        self.toks.get(self.i).map(|t| t.kind)
    }

    fn expect(&mut self, kind: Kind) -> Result<usize, usize> {
        if self.peek() == Some(kind) {
            self.i += 1;
            Ok(self.i - 1)
        } else {
            Err(self.i)
        }
    }

    fn block(&mut self, top: bool) -> Result<Block, usize> {
        let mut nodes = Vec::new();
        loop {
            let lead = self.lead();
            match self.peek() {
                None if top => return Ok(Block { nodes, tail: lead }),
                Some(Kind::Close) if !top => return Ok(Block { nodes, tail: lead }),
                Some(Kind::Slashdash | Kind::OpenParen | Kind::Atom) => {
                    let node = self.node()?;
                    nodes.push((lead, node));
                }
                _ => return Err(self.i),
            }
        }
    }

    fn lead(&mut self) -> Vec<Lead> {
        let mut items = Vec::new();
        while let Some(kind) = self.peek() {
            match kind {
                Kind::Space | Kind::Escape => {}
                Kind::Bom if self.i == 0 => {}
                Kind::Newline => items.push(Lead::Newline),
                Kind::LineComment | Kind::BlockComment => items.push(Lead::Comment(self.i)),
                _ => break,
            }
            self.i += 1;
        }
        items
    }

    fn node(&mut self) -> Result<Node, usize> {
        let slashdash = self.slashdash();
        let head = self.value()?;
        let mut parts = Vec::new();
        loop {
            let gap = self.node_space();
            match self.peek() {
                Some(Kind::Slashdash | Kind::Open | Kind::OpenParen | Kind::Atom) => {
                    let slashdash = self.slashdash();
                    let body = if self.peek() == Some(Kind::Open) {
                        self.i += 1;
                        let block = self.block(false)?;
                        self.expect(Kind::Close)?;
                        Body::Block(block)
                    } else {
                        Body::Entry(self.entry()?)
                    };
                    parts.push(Part {
                        gap,
                        slashdash,
                        body,
                    });
                }
                _ => {
                    let term = self.terminator()?;
                    return Ok(Node {
                        slashdash,
                        head,
                        parts,
                        end: gap,
                        term,
                    });
                }
            }
        }
    }

    fn terminator(&mut self) -> Result<Term, usize> {
        let term = match self.peek() {
            None | Some(Kind::Close) => return Ok(Term::End),
            Some(Kind::Newline) => Term::Newline,
            Some(Kind::Semicolon) => Term::Semicolon,
            Some(Kind::LineComment) => {
                let comment = self.i;
                self.i += 1;
                // The comment's newline belongs to it.
                if self.peek() == Some(Kind::Newline) {
                    self.i += 1;
                }
                return Ok(Term::Comment(comment));
            }
            Some(_) => return Err(self.i),
        };
        self.i += 1;
        Ok(term)
    }

    /// `/-` and the text after it, if there.
    fn slashdash(&mut self) -> Option<Vec<Gap>> {
        if self.peek() != Some(Kind::Slashdash) {
            return None;
        }
        self.i += 1;
        let mut gap = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space | Kind::Newline) => self.i += 1,
                Some(Kind::BlockComment) => {
                    gap.push(Gap::Comment(self.i));
                    self.i += 1;
                }
                Some(Kind::LineComment) => {
                    gap.push(Gap::LineComment(self.i));
                    self.i += 1;
                }
                Some(Kind::Escape) => gap.push(self.escline()),
                // `/-/-x`: the KDL parser takes it.
                Some(Kind::Slashdash) => {
                    gap.push(Gap::Slashdash);
                    self.i += 1;
                }
                _ => return Some(gap),
            }
        }
    }

    /// Blanks, `/* */` comments and line continuations inside a node.
    fn node_space(&mut self) -> Vec<Gap> {
        let mut gap = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space) => self.i += 1,
                Some(Kind::BlockComment) => {
                    gap.push(Gap::Comment(self.i));
                    self.i += 1;
                }
                Some(Kind::Escape) => gap.push(self.escline()),
                _ => return gap,
            }
        }
    }

    /// `\`, then blanks and comments to the end of its line.
    fn escline(&mut self) -> Gap {
        self.i += 1;
        let mut comments = Vec::new();
        loop {
            match self.peek() {
                Some(Kind::Space) => self.i += 1,
                Some(Kind::BlockComment) => {
                    comments.push(self.i);
                    self.i += 1;
                }
                Some(Kind::LineComment) => {
                    comments.push(self.i);
                    self.i += 1;
                    break;
                }
                _ => break,
            }
        }
        if self.peek() == Some(Kind::Newline) {
            self.i += 1;
        }
        Gap::Escline(comments)
    }

    /// An argument or a property.
    fn entry(&mut self) -> Result<Vec<Piece>, usize> {
        let mut pieces = self.value()?;
        let save = self.i;
        let gap = self.node_space();
        if self.peek() == Some(Kind::Equals) {
            pieces.push(Piece { gap, tok: self.i });
            self.i += 1;
            let gap = self.node_space();
            let mut value = self.value()?;
            if let Some(first) = value.first_mut() {
                first.gap = gap;
            }
            pieces.extend(value);
        } else {
            self.i = save;
        }
        Ok(pieces)
    }

    /// A string, number or keyword, maybe with a type annotation.
    fn value(&mut self) -> Result<Vec<Piece>, usize> {
        let mut pieces = Vec::new();
        if self.peek() == Some(Kind::OpenParen) {
            pieces.push(Piece {
                gap: Vec::new(),
                tok: self.expect(Kind::OpenParen)?,
            });
            for kind in [Kind::Atom, Kind::CloseParen] {
                let gap = self.node_space();
                pieces.push(Piece {
                    gap,
                    tok: self.expect(kind)?,
                });
            }
        }
        let gap = self.node_space();
        pieces.push(Piece {
            gap,
            tok: self.expect(Kind::Atom)?,
        });
        Ok(pieces)
    }
}

// --- Layout ---

struct Printer<'a> {
    src: &'a str,
    toks: &'a [Token],
    out: String,
    /// The indentation depth owed before the next text on this line.
    pending: Option<usize>,
}

impl Printer<'_> {
    fn write(&mut self, s: &str) {
        if let Some(depth) = self.pending.take() {
            self.out.push_str(&INDENT.repeat(depth));
        }
        self.out.push_str(s);
    }

    fn at_line_start(&self) -> bool {
        self.pending.is_some() || self.out.is_empty() || self.out.ends_with('\n')
    }

    /// One space, unless at the start of a line or after one.
    fn space(&mut self) {
        if !self.at_line_start() && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
    }

    fn newline(&mut self) {
        self.pending = None;
        let kept = self.out.trim_end_matches(' ').len();
        self.out.truncate(kept);
        self.out.push('\n');
    }

    fn end_line(&mut self) {
        if self.at_line_start() {
            self.pending = None;
        } else {
            self.newline();
        }
    }

    fn line_start(&mut self, depth: usize) {
        self.end_line();
        self.pending = Some(depth);
    }

    fn atom(&mut self, t: usize) {
        let tok = self.toks[t];
        self.write(&normalize_newlines(&self.src[tok.start..tok.end]));
    }

    /// A comment; the lines of a multi-line one keep their indentation relative to its start.
    fn comment(&mut self, t: usize) {
        let tok = self.toks[t];
        let text = normalize_newlines(&self.src[tok.start..tok.end]);
        let mut lines = text.split('\n');
        let first = lines.next().unwrap_or_default().trim_end();
        self.write(first);
        if !text.contains('\n') {
            return;
        }
        // Its column in the output: counted for multi-line comments only, each of which ends
        // a line, so that counting never takes quadratic time.
        let line_start = self.out.rfind('\n').map_or(0, |i| i + 1);
        let col = self.out[line_start..].chars().count() - first.chars().count();
        for line in lines {
            self.newline();
            if col > MAX_REINDENT {
                self.out.push_str(line.trim_end());
                continue;
            }
            let mut rest = line;
            for _ in 0..tok.col {
                match rest.chars().next() {
                    Some(c) if is_space(c) => rest = &rest[c.len_utf8()..],
                    _ => break,
                }
            }
            let rest = rest.trim_end();
            if !rest.is_empty() {
                self.out.push_str(&" ".repeat(col));
                self.out.push_str(rest);
            }
        }
    }

    /// The nodes of a block at `depth`; `mid_line` when the line before is still open (after
    /// `{` or a `;`), so that comments on it stay there.
    fn block(&mut self, block: &Block, depth: usize, mut mid_line: bool) {
        let mut printed = false;
        for (lead, node) in &block.nodes {
            self.lead(lead, depth, mid_line, &mut printed, false);
            mid_line = self.node(node, depth);
            printed = true;
        }
        self.lead(&block.tail, depth, mid_line, &mut printed, true);
        self.end_line();
    }

    /// The text before a node (or before the end of its block, `tail`): comments on their
    /// lines, a run of blank lines as one blank line (none at the start or end of a block),
    /// and comments before the node on its own line. Leaves that line open for the node.
    fn lead(
        &mut self,
        items: &[Lead],
        depth: usize,
        mid_line: bool,
        printed: &mut bool,
        tail: bool,
    ) {
        let mut lines: Vec<Vec<usize>> = vec![Vec::new()];
        for item in items {
            match *item {
                Lead::Newline => lines.push(Vec::new()),
                Lead::Comment(t) => {
                    if let Some(line) = lines.last_mut() {
                        line.push(t);
                    }
                }
            }
        }
        let last = lines.pop().unwrap_or_default();
        let mut lines = lines.into_iter();
        if mid_line {
            // The rest of the open line, if the text goes on to other lines.
            for t in lines.next().unwrap_or_default() {
                self.space();
                self.comment(t);
            }
            self.end_line();
        }
        let mut blank = false;
        for line in lines {
            if line.is_empty() {
                blank = *printed;
                continue;
            }
            self.comment_line(&line, depth, &mut blank);
            self.newline();
            *printed = true;
        }
        if !tail {
            self.comment_line(&last, depth, &mut blank);
            self.space();
        } else if !last.is_empty() {
            self.comment_line(&last, depth, &mut blank);
            self.newline();
        }
    }

    fn comment_line(&mut self, comments: &[usize], depth: usize, blank: &mut bool) {
        self.end_line();
        if std::mem::take(blank) {
            self.out.push('\n');
        }
        self.pending = Some(depth);
        for &t in comments {
            self.space();
            self.comment(t);
        }
    }

    /// A node, on the line already started. Returns whether its line is left open (it ended
    /// with `;` or its block), for the text after it to finish.
    fn node(&mut self, node: &Node, depth: usize) -> bool {
        self.space();
        if let Some(gap) = &node.slashdash {
            self.write("/-");
            self.gap(gap, false, depth);
        }
        self.pieces(&node.head, depth);
        for part in &node.parts {
            self.gap(&part.gap, true, depth);
            if let Some(gap) = &part.slashdash {
                self.write("/-");
                self.gap(gap, false, depth);
            }
            match &part.body {
                Body::Entry(pieces) => self.pieces(pieces, depth),
                Body::Block(block) => {
                    self.write("{");
                    self.block(block, depth + 1, true);
                    self.line_start(depth);
                    self.write("}");
                }
            }
        }
        self.gap(&node.end, false, depth);
        match node.term {
            Term::Comment(t) => {
                self.space();
                self.comment(t);
                self.newline();
                false
            }
            Term::Newline => {
                self.newline();
                false
            }
            // A `;` on the line after a continuation: an empty line ends the node as well.
            Term::Semicolon if self.pending.is_some() => {
                self.newline();
                false
            }
            Term::Semicolon | Term::End => true,
        }
    }

    fn pieces(&mut self, pieces: &[Piece], depth: usize) {
        for piece in pieces {
            self.gap(&piece.gap, false, depth);
            self.atom(piece.tok);
        }
    }

    /// The text between two tokens of a node: comments with a space either side, a line
    /// continuation (or a `//` comment after `/-`) ends the line and indents the next one a
    /// level deeper. `spaced`: a space separates the tokens anyway.
    fn gap(&mut self, gap: &[Gap], spaced: bool, depth: usize) {
        for item in gap {
            if !matches!(item, Gap::Slashdash) {
                self.space();
            }
            match item {
                Gap::Slashdash => self.write("/-"),
                Gap::Comment(t) => self.comment(*t),
                Gap::LineComment(t) => {
                    self.comment(*t);
                    self.newline();
                    self.pending = Some(depth + 1);
                }
                Gap::Escline(comments) => {
                    self.write("\\");
                    for &t in comments {
                        self.space();
                        self.comment(t);
                    }
                    self.newline();
                    self.pending = Some(depth + 1);
                }
            }
        }
        if spaced || matches!(gap.last(), Some(Gap::Comment(_))) {
            self.space();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{format_kdl, lex, verify, FmtError, Kind};

    #[test]
    fn formats_keeps_comments_quotes_and_blank_lines() {
        let messy = "// header\n\n  // the trail\norganization-trail   \"t\"{\n  bucket \"b\";   multi-region #true}\n\n\n\nkms-key \"k\" {\n// why\nalias \"alias/k\"   // end of line\n}\nc // after\n\n  // the end\n";
        let formatted = format_kdl(messy).unwrap();
        let expected = "// header\n\n// the trail\norganization-trail \"t\" {\n    bucket \"b\"\n    multi-region #true\n}\n\nkms-key \"k\" {\n    // why\n    alias \"alias/k\" // end of line\n}\nc // after\n\n// the end\n";
        assert_eq!(formatted, expected);
        assert_eq!(
            format_kdl(&formatted).unwrap(),
            formatted,
            "formatting is idempotent"
        );
    }

    #[test]
    fn keeps_a_comment_after_a_closing_brace() {
        let text = "a {\n    b 1\n} // kept\nc\n";
        assert_eq!(format_kdl(text).unwrap(), text);
    }

    #[test]
    fn a_comment_far_right_keeps_its_lines() {
        // Re-indented, each line would be padded with 302 spaces.
        let text = format!("a {}/* x\n  y */\n", "1 ".repeat(150));
        assert_eq!(format_kdl(&text).unwrap(), text);
    }

    #[test]
    fn lexes_every_kdl_newline_as_one() {
        let text = "a\r\nb\rc\u{85}d\u{b}e\u{c}f\u{2028}g\u{2029}h\n";
        let toks = lex(text);
        assert_eq!(toks.iter().filter(|t| t.kind == Kind::Newline).count(), 8);
        let h = toks.iter().find(|t| &text[t.start..t.end] == "h").unwrap();
        assert_eq!(h.line, 8);
        let comment = lex("// a\u{2028}b");
        assert_eq!(comment[0].kind, Kind::LineComment);
        assert_eq!(comment[0].end, 4);
    }

    #[test]
    fn lexes_strings_whole() {
        for (text, len) in [
            (r#""a\"b" x"#, 6),
            ("\"\"\"\n  a \" \"\" b\n  \"\"\" x", 20),
            (r##"#"a"b"# x"##, 7),
            (r###"##"a"#b"## x"###, 10),
            ("#\"\"\"\n\"\"\"\n\"\"\"# x", 13),
            ("#true x", 5),
            ("/* a /* b */ c */ x", 17),
        ] {
            assert_eq!(lex(text)[0].end, len, "{text}");
        }
    }

    #[test]
    fn lexes_anything_into_contiguous_tokens() {
        for text in [
            "\"abc\\",
            "\"\"\"\\",
            "#",
            "##",
            "#\"",
            "##\"\"#",
            "/*",
            "/* /* */",
            "/",
            "a\\\u{e9}\"\\\u{e9}\"",
            "\r",
            "\u{feff}\u{feff}",
            "(){}=;[]",
        ] {
            let toks = lex(text);
            let mut at = 0;
            for t in &toks {
                assert_eq!(t.start, at, "{text:?}");
                assert!(t.end > t.start, "{text:?}");
                at = t.end;
            }
            assert_eq!(at, text.len(), "{text:?}");
        }
    }

    #[test]
    fn verify_names_the_line_and_what_would_be_lost() {
        let before = "a 1\nb /* why */ 2\nc\n";
        assert_eq!(
            verify(before, "a 1\nb 2\nc\n"),
            Err(FmtError::Refused {
                line: 2,
                cause: "formatting would drop the comment `/* why */`".into()
            })
        );
        assert_eq!(
            verify("a\n// note\rb\n", "a\n// note b\n"),
            Err(FmtError::Refused {
                line: 2,
                cause: "formatting would change the comment `// note` into the comment `// note b`"
                    .into()
            })
        );
        assert_eq!(
            verify("a /-1 2\n", "a 2\n"),
            Err(FmtError::Refused {
                line: 1,
                cause: "formatting would drop the `/-` that comments out what follows it".into()
            })
        );
        // Same tokens, another document: `b` would become an argument of `a`.
        assert_eq!(
            verify("a\nb\n", "a \\\nb\n"),
            Err(FmtError::Refused {
                line: 1,
                cause: "formatting would change the meaning of the node `a`".into()
            })
        );
        assert_eq!(verify(before, "a 1\nb /* why */ 2\n\nc"), Ok(()));
    }
}
