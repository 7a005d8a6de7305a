//! A failed AWS call is one line: operation, HTTP status, error code, message, request id
//! (issue 12). Behind a proxy that answers some calls with an HTML 500 page, as a corporate
//! proxy or a load balancer does, each failed operation is reported in one line, not as a
//! dump of SDK internals.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use support::*;

/// The page a proxy answers with: large, so that a dump of it shows.
fn html_page() -> String {
    format!(
        "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>\
         <h1>Internal Server Error</h1>{}</body></html>",
        "<p>The proxy could not complete your request.</p>".repeat(60)
    )
}

/// One HTTP/1.1 request or response head and body, read from `reader`.
fn read_message(reader: &mut impl BufRead) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

/// `head` with `Connection: close` (one request per connection keeps the proxy simple).
fn closing(head: &str) -> String {
    let kept: String = head
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:") && *l != "\r\n")
        .collect();
    format!("{kept}Connection: close\r\n\r\n")
}

/// A proxy to `upstream` that answers every request whose body contains `refuse` with an
/// HTML 500 page. Returns its endpoint URL.
fn proxy(upstream: &str, refuse: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let Some((head, body)) = read_message(&mut reader) else {
                    return;
                };
                let mut client = client;
                if String::from_utf8_lossy(&body).contains(refuse) {
                    let page = html_page();
                    let _ = write!(
                        client,
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    );
                    return;
                }
                let mut server = TcpStream::connect(&upstream).unwrap();
                server.write_all(closing(&head).as_bytes()).unwrap();
                server.write_all(&body).unwrap();
                let mut server = BufReader::new(server);
                if let Some((head, body)) = read_message(&mut server) {
                    let _ = client.write_all(closing(&head).as_bytes());
                    let _ = client.write_all(&body);
                }
            });
        }
    });
    endpoint
}

const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
password-policy {
    targets { all-accounts }
    min-length 14
}
organizational-unit "workloads"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_html_500_from_a_proxy_is_one_line_per_failed_operation() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();
    let endpoint = proxy(&emulator.endpoint, "Action=GetAccountPasswordPolicy");
    // A 500 is retried; two attempts (AWS_MAX_ATTEMPTS, as the SDKs read it) keep this short.
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_MAX_ATTEMPTS", "2"),
    ];
    let run = baseline_with(&emulator, &env, &["plan", root]).expect(1);

    // Six accounts, each one line naming the operation, the status and what came back.
    let failed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("iam:GetAccountPasswordPolicy"))
        .collect();
    assert_eq!(failed.len(), 6, "{}", run.stderr);
    for line in &failed {
        assert!(
            line.starts_with("error: password-policy.default["),
            "{line}"
        );
        assert!(line.contains("HTTP 500"), "{line}");
        assert!(line.len() < 400, "one short line: {line}");
    }
    assert!(!run.stderr.contains("<html"), "{}", run.stderr);
    assert!(!run.stderr.contains("ResponseError"), "{}", run.stderr);
    // Everything else was read: the OU's plan is shown.
    assert!(
        run.stdout.contains("organizational-unit.workloads"),
        "{}",
        run.stdout
    );

    // The SDK's full account, and its own events (each attempt), at a debug log level.
    let debug = baseline_with(
        &emulator,
        &[
            env[0],
            env[1],
            ("BASELINE_LOG", "baseline=debug,aws_smithy_runtime=debug"),
        ],
        &["plan", root],
    )
    .expect(1);
    assert!(
        debug.stderr.contains("AWS call failed") && debug.stderr.contains("<title>500"),
        "{}",
        debug.stderr
    );
    assert!(
        debug.stderr.contains("aws_smithy_runtime"),
        "{}",
        debug.stderr
    );
    let bad = baseline(&emulator, &["plan", root, "--log-level", "baseline=loud"]).expect(1);
    assert!(bad.stderr.contains("invalid --log-level"), "{}", bad.stderr);
}
