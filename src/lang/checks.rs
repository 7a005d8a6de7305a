//! Checks of single values against what AWS accepts: regions, account ids, schedules, names
//! and policy documents; and of control ids against the built-in catalogs. Pure functions, so
//! they are unit-tested on plain values.

/// Every AWS region, commercial and partitioned, as of this release.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Looks like an attempt at an account id (all digits) but is not one.
pub fn is_malformed_account_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !is_account_id(s)
}

/// What is wrong with a `controls` tag: the message, the label on the tag, and the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadControl {
    pub message: String,
    pub label: String,
    pub help: String,
}

/// How a control tag is written, for help texts.
pub const CONTROL_FORMAT: &str = "a control is written `SOC2:CC6.1` (2017 Trust Services \
     Criteria) or `ISO27001:2022:A.5.15` (ISO 27001:2022 Annex A)";

/// A tag `SOC2:CC6.1` or `ISO27001:2022:A.5.15` that names a control in the built-in catalogs
/// ([`crate::controls`]).
pub fn check_control_id(tag: &str) -> Result<(), BadControl> {
    use crate::controls::{check_tag, TagError};
    let quoted = |tags: &[String]| {
        tags.iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let err = match check_tag(tag) {
        Ok(_) => return Ok(()),
        Err(TagError::Unknown {
            framework,
            suggestion,
        }) => BadControl {
            message: format!(
                "unknown {} {} \"{tag}\"",
                framework.name(),
                framework.noun()
            ),
            label: format!("not in the {} catalog", framework.name()),
            help: match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "the {} ids are {}",
                    framework.name(),
                    framework.catalog().ranges()
                ),
            },
        },
        Err(TagError::Iso2013 { id, replaced_by }) => BadControl {
            message: format!("\"{tag}\" is an ISO 27001:2013 control id"),
            label: "ISO 27001:2013 numbering".to_string(),
            help: format!(
                "{id} of ISO 27001:2013 is {} in ISO 27001:2022",
                quoted(&replaced_by)
            ),
        },
        Err(TagError::Malformed { suggestion }) => BadControl {
            message: format!("\"{tag}\" is not a control id"),
            label: "not a control id".to_string(),
            help: match suggestion {
                Some(s) => format!("did you mean `{s}`?\n{CONTROL_FORMAT}"),
                None => CONTROL_FORMAT.to_string(),
            },
        },
    };
    Err(err)
}

fn regex_is(pattern: &str, s: &str) -> bool {
    regex::Regex::new(pattern)
        .expect("static pattern")
        .is_match(s)
}

/// S3 bucket naming rules (general purpose buckets).
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "a bucket name has 3 to 63 characters, this one {}",
            name.len()
        ));
    }
    if !regex_is(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$", name) {
        return Err(
            "a bucket name uses lowercase letters, digits, dots and hyphens, \
                    and starts and ends with a letter or digit"
                .to_string(),
        );
    }
    if name.contains("..") || regex_is(r"^\d+\.\d+\.\d+\.\d+$", name) {
        return Err("a bucket name has no two adjacent dots and is not an IP address".to_string());
    }
    Ok(())
}

/// A KMS alias name: `alias/` then letters, digits, `/_-`, not in the reserved `alias/aws/`.
pub fn check_kms_alias(alias: &str) -> Result<(), String> {
    if !alias.starts_with("alias/") {
        return Err("a KMS alias starts with `alias/`".to_string());
    }
    if alias.starts_with("alias/aws/") {
        return Err("`alias/aws/` is reserved for AWS managed keys".to_string());
    }
    if !regex_is(r"^alias/[a-zA-Z0-9/_-]{1,250}$", alias) {
        return Err("after `alias/`, use 1 to 250 letters, digits, `/`, `_` or `-`".to_string());
    }
    Ok(())
}

/// An AWS schedule expression: `cron(min hour day-of-month month day-of-week year)` or
/// `rate(value unit)`, as EventBridge and AWS Backup define them.
pub fn check_schedule(expr: &str) -> Result<Schedule, String> {
    let expr = expr.trim();
    if let Some(body) = expr.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
        check_cron(body).map(|()| Schedule::Cron)
    } else if let Some(body) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        check_rate(body).map(|()| Schedule::Rate)
    } else {
        Err(
            "a schedule is `cron(minutes hours day-of-month month day-of-week year)` \
             or `rate(value unit)`"
                .to_string(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Cron,
    Rate,
}

fn check_rate(body: &str) -> Result<(), String> {
    let parts: Vec<&str> = body.split_whitespace().collect();
    let [value, unit] = parts.as_slice() else {
        return Err("rate() takes a value and a unit, e.g. rate(12 hours)".to_string());
    };
    let value: u64 = value
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("rate value `{value}` is not a positive whole number"))?;
    let singular = ["minute", "hour", "day"];
    let plural = ["minutes", "hours", "days"];
    match (value, *unit) {
        (1, u) if singular.contains(&u) => Ok(()),
        (1, u) if plural.contains(&u) => {
            Err(format!("write `rate(1 {})`", u.trim_end_matches('s')))
        }
        (_, u) if plural.contains(&u) => Ok(()),
        (_, u) if singular.contains(&u) => Err(format!("write `rate({value} {u}s)`")),
        (_, u) => Err(format!(
            "unknown rate unit `{u}`: use minutes, hours or days"
        )),
    }
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn check_cron(body: &str) -> Result<(), String> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "cron() takes 6 fields (minutes hours day-of-month month day-of-week year), found {}",
            fields.len()
        ));
    }
    let specs: [(&str, u32, u32, &[&str]); 6] = [
        ("minutes", 0, 59, &[]),
        ("hours", 0, 23, &[]),
        ("day-of-month", 1, 31, &[]),
        ("month", 1, 12, MONTHS),
        ("day-of-week", 1, 7, DAYS),
        ("year", 1970, 2199, &[]),
    ];
    for (field, (what, lo, hi, names)) in fields.iter().zip(specs) {
        check_cron_field(field, what, lo, hi, names)?;
    }
    let (dom, dow) = (fields[2], fields[4]);
    if (dom == "?") == (dow == "?") {
        return Err("exactly one of day-of-month and day-of-week must be `?`".to_string());
    }
    Ok(())
}

fn check_cron_field(
    field: &str,
    what: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
) -> Result<(), String> {
    let bad = |detail: &str| Err(format!("cron {what} field `{field}`: {detail}"));
    let value = |s: &str| -> Option<u32> {
        s.parse::<u32>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .or_else(|| {
                names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(s))
                    .map(|i| i as u32 + lo)
            })
    };
    if field == "*" || (field == "?" && (what == "day-of-month" || what == "day-of-week")) {
        return Ok(());
    }
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(step) = step {
            if step.parse::<u32>().map_or(true, |s| s == 0) {
                return bad(&format!("step `{step}` is not a positive number"));
            }
        }
        let special = match what {
            "day-of-month" => range == "L" || range == "LW" || range.ends_with('W'),
            "day-of-week" => range == "L" || range.ends_with('L') || range.contains('#'),
            _ => false,
        };
        if special {
            continue;
        }
        if range == "*" {
            continue;
        }
        let ok = match range.split_once('-') {
            Some((a, b)) => value(a).is_some() && value(b).is_some(),
            None => value(range).is_some(),
        };
        if !ok {
            return bad(&format!("`{range}` is not within {lo}-{hi}"));
        }
    }
    Ok(())
}

/// The policy document limits AWS Organizations enforces, in characters of the minified JSON
/// (SCPs: 10,240 since 15 May 2026, 5,120 before).
pub const SCP_MAX_CHARS: usize = 10240;

/// What is wrong with a policy document's shape, beyond being JSON.
pub fn check_policy_shape(doc: &serde_json::Value, allow_principal: bool) -> Vec<String> {
    use serde_json::Value;
    let mut errors = Vec::new();
    let Some(obj) = doc.as_object() else {
        return vec!["a policy document is a JSON object".to_string()];
    };
    for key in obj.keys() {
        if !["Version", "Id", "Statement"].contains(&key.as_str()) {
            errors.push(format!("unknown top-level element `{key}`"));
        }
    }
    match obj.get("Version").and_then(Value::as_str) {
        Some("2012-10-17") => {}
        Some(v) => errors.push(format!("`Version` is \"{v}\"; use \"2012-10-17\"")),
        None => errors.push("`Version` is missing; use \"2012-10-17\"".to_string()),
    }
    let statements: Vec<&Value> = match obj.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => {
            errors.push("`Statement` is missing or empty".to_string());
            Vec::new()
        }
    };
    let known = [
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ];
    for (i, st) in statements.iter().enumerate() {
        let n = i + 1;
        let Some(st) = st.as_object() else {
            errors.push(format!("statement {n} is not an object"));
            continue;
        };
        for key in st.keys() {
            let allowed = known.contains(&key.as_str())
                || (allow_principal && (key == "Principal" || key == "NotPrincipal"));
            if !allowed {
                errors.push(format!("statement {n} has unknown element `{key}`"));
            }
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => errors.push(format!(
                "statement {n}: `Effect` must be \"Allow\" or \"Deny\""
            )),
        }
        if st.contains_key("Action") == st.contains_key("NotAction") {
            errors.push(format!(
                "statement {n}: give exactly one of `Action` and `NotAction`"
            ));
        }
        if st.contains_key("Resource") && st.contains_key("NotResource") {
            errors.push(format!(
                "statement {n}: give at most one of `Resource` and `NotResource`"
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cron_expressions() {
        assert!(check_schedule("cron(0 5 ? * * *)").is_ok());
        assert!(check_schedule("cron(0/15 1-3 ? JAN-MAR MON-FRI 2026)").is_ok());
        assert!(check_schedule("cron(0 5 L * ? *)").is_ok());
        assert!(check_schedule("cron(0 5 ? * 6#3 *)").is_ok());
        let e = check_schedule("cron(0 25 ? * * *)").unwrap_err();
        assert!(e.contains("hours"), "{e}");
        assert!(check_schedule("cron(0 5 * * * *)")
            .unwrap_err()
            .contains("exactly one"));
        assert!(check_schedule("cron(0 5 ? * *)")
            .unwrap_err()
            .contains("6 fields"));
        assert!(check_schedule("daily").is_err());
    }

    #[test]
    fn rate_expressions() {
        assert_eq!(check_schedule("rate(1 day)"), Ok(Schedule::Rate));
        assert_eq!(check_schedule("rate(12 hours)"), Ok(Schedule::Rate));
        assert!(check_schedule("rate(1 days)").is_err());
        assert!(check_schedule("rate(0 hours)").is_err());
        assert!(check_schedule("rate(5 weeks)").is_err());
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(is_malformed_account_id("12345"));
        assert!(!is_malformed_account_id("prod-app"));
    }

    #[test]
    fn control_ids() {
        assert!(check_control_id("SOC2:CC6.1").is_ok());
        assert!(check_control_id("ISO27001:2022:A.8.15").is_ok());
        let e = check_control_id("SOC2:CC6.9").unwrap_err();
        assert_eq!(e.message, "unknown SOC 2 criterion \"SOC2:CC6.9\"");
        assert!(e.help.starts_with("did you mean `SOC2:CC6."), "{e:?}");
        let e = check_control_id("ISO27001:2022:A.9.1").unwrap_err();
        assert!(
            e.help.starts_with("did you mean `ISO27001:2022:A."),
            "{e:?}"
        );
        let e = check_control_id("SOC2:XYZ").unwrap_err();
        assert!(e.help.contains("CC1.1–CC1.5"), "{e:?}");
        let e = check_control_id("SOC2:6.1").unwrap_err();
        assert!(e.message.starts_with("unknown SOC 2 criterion"), "{e:?}");
        let e = check_control_id("ISO27001:A.12.4.1").unwrap_err();
        assert_eq!(
            e.help,
            "A.12.4.1 of ISO 27001:2013 is `ISO27001:2022:A.8.15` in ISO 27001:2022"
        );
        let e = check_control_id("cc6.1").unwrap_err();
        assert_eq!(e.message, "\"cc6.1\" is not a control id");
        assert!(e
            .help
            .starts_with("did you mean `SOC2:CC6.1`?\na control is written"));
        assert_eq!(
            check_control_id("NIST:AC-2").unwrap_err().help,
            CONTROL_FORMAT
        );
    }

    #[test]
    fn names() {
        assert!(check_bucket_name("org-trail-logs-123").is_ok());
        assert!(check_bucket_name("Org_Trail").is_err());
        assert!(check_bucket_name("ab").is_err());
        assert!(check_kms_alias("alias/org-logs").is_ok());
        assert!(check_kms_alias("org-logs").is_err());
        assert!(check_kms_alias("alias/aws/s3").is_err());
    }

    #[test]
    fn policy_shapes() {
        let good = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]});
        assert!(check_policy_shape(&good, false).is_empty());
        let bad = json!({"Version": "2008-10-17", "Statement": [
            {"Effect": "Maybe", "Action": "s3:*", "NotAction": "iam:*", "Principal": "*"}]});
        let errors = check_policy_shape(&bad, false);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(check_policy_shape(&json!([1]), false)[0].contains("JSON object"));
    }
}

/// `YYYY-MM-DD`, a day that exists (leap years included).
pub fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn iso_dates() {
        assert!(super::is_iso_date("2027-03-31"));
        assert!(super::is_iso_date("2028-02-29"));
        assert!(!super::is_iso_date("2027-02-29"));
        assert!(!super::is_iso_date("2027-3-31"));
        assert!(!super::is_iso_date("31/03/2027"));
        assert!(!super::is_iso_date("2027-13-01"));
    }
}
