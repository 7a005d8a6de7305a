//! `config-recorder`: AWS Config in every targeted account and region: the recorder, its
//! delivery channel, its recording status and managed rules, as four kinds of parts.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::{Part, Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::lang::targets::check_region;

pub static KIND: Kind = Kind {
    keyword: "config-recorder",
    summary: "AWS Config recorder, delivery channel, recording status and managed rules",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

pub const FREQUENCIES: &[&str] = &[
    "One_Hour",
    "Three_Hours",
    "Six_Hours",
    "Twelve_Hours",
    "TwentyFour_Hours",
];

/// Indexes of the parts, in the order [`ConfigRecorder::extra_parts`] lists them after the
/// recorder itself (part 0).
pub const DELIVERY_CHANNEL: usize = 1;
pub const RECORDING: usize = 2;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub bucket: Spanned<String>,
    pub frequency: String,
    pub prefix: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ManagedRule {
    pub name: Spanned<String>,
    /// AWS managed rule identifier, e.g. `IAM_PASSWORD_POLICY`.
    pub identifier: String,
    pub parameters: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct ConfigRecorder {
    pub all_supported: bool,
    /// The one region that records global resources (IAM); AWS advises recording them once.
    pub global_resources_region: Option<Spanned<String>>,
    /// Role ARN or name; the Config service-linked role when absent.
    pub role: Option<String>,
    pub delivery: Option<Delivery>,
    pub rules: Vec<ManagedRule>,
}

impl Spec for ConfigRecorder {
    fn references(&self) -> Vec<Reference> {
        self.delivery
            .iter()
            .map(|d| Reference::new("log-bucket", &d.bucket).from_part(DELIVERY_CHANNEL))
            .collect()
    }

    fn extra_parts(&self, name: &str) -> Vec<Part> {
        let mut parts = vec![
            Part {
                kind: "config-delivery-channel".into(),
                name: name.to_string(),
                after: vec![0],
            },
            Part {
                kind: "config-recording".into(),
                name: name.to_string(),
                after: vec![DELIVERY_CHANNEL],
            },
        ];
        parts.extend(self.rules.iter().map(|rule| Part {
            kind: "config-rule".into(),
            name: rule.name.value.clone(),
            after: vec![RECORDING],
        }));
        parts
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let all_supported = r.child_bool("all-supported").is_none_or(|b| b.value);
    let global_resources_region = r.child_str("global-resources-region", "a region name");
    if let Some(reg) = &global_resources_region {
        check_region(r, reg);
    }
    let role = r.child_str("role", "a role name or ARN").map(|s| s.value);
    let delivery = match r.child("delivery") {
        Some(d) => parse_delivery(d),
        None => r.require(
            None,
            "delivery",
            "delivery bucket=\"org-config-logs\" frequency=\"TwentyFour_Hours\"",
        ),
    };
    let rules = r
        .children("rule")
        .into_iter()
        .filter_map(parse_rule)
        .collect();
    Box::new(ConfigRecorder {
        all_supported,
        global_resources_region,
        role,
        delivery,
        rules,
    })
}

fn parse_delivery(mut d: NodeReader) -> Option<Delivery> {
    {
        let bucket = d.required_prop_str("bucket");
        let frequency = d.prop_str("frequency");
        if let Some(f) = frequency
            .as_ref()
            .filter(|f| !FREQUENCIES.contains(&f.value.as_str()))
        {
            d.report(
                Problem::new(
                    "baseline::invalid-value",
                    f.span,
                    format!("unknown delivery frequency \"{}\"", f.value),
                )
                .label("unknown frequency")
                .help(did_you_mean(&f.value, FREQUENCIES)),
            );
        }
        let prefix = d.prop_str("prefix").map(|p| p.value);
        d.finish();
        Some(Delivery {
            bucket: bucket?,
            frequency: frequency.map_or_else(|| "TwentyFour_Hours".to_string(), |f| f.value),
            prefix,
        })
    }
}

fn parse_rule(mut c: NodeReader) -> Option<ManagedRule> {
    let name = c.arg_str(0, "the rule's name");
    let identifier = c.required_prop_str("identifier");
    if let Some(id) = identifier.as_ref().filter(|i| {
        !i.value
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
    }) {
        c.report(
            Problem::new(
                "baseline::invalid-value",
                id.span,
                format!("\"{}\" is not a managed rule identifier", id.value),
            )
            .label("not an identifier")
            .help("managed rule identifiers are upper case, e.g. IAM_PASSWORD_POLICY"),
        );
    }
    let parameters = c
        .children("parameter")
        .into_iter()
        .filter_map(|mut p| {
            let key = p.arg_str(0, "the parameter's name");
            let value = p.arg_str(1, "the parameter's value");
            p.finish();
            Some((key?.value, value?.value))
        })
        .collect();
    c.finish();
    Some(ManagedRule {
        name: name?,
        identifier: identifier?.value,
        parameters,
    })
}
