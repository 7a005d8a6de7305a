//! `config-recorder`: AWS Config in every targeted account and region: the recorder, its
//! delivery channel, its recording status and managed rules, as four kinds of parts.

use async_trait::async_trait;
use aws_sdk_config::types::{
    ConfigRule, ConfigSnapshotDeliveryProperties, ConfigurationRecorder, DeliveryChannel,
    MaximumExecutionFrequency, Owner, RecordingGroup, RecordingStrategy, RecordingStrategyType,
    ResourceType, Source, Tag,
};
use serde_json::{json, Value};

use super::log_bucket::bucket_name_of;
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::{AwsError, Context};
use crate::expand::Instance;
use crate::iam::with_new_role;
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::{Part, Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::lang::targets::check_region;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "config-recorder",
    summary: "AWS Config recorder, delivery channel, recording status and managed rules",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &["config-delivery-channel", "config-recording", "config-rule"],
    parse,
    check_all: no_check,
    provider: Some(&ConfigRecorderProvider),
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
    /// What to record when not every supported type is (`all-supported #false`).
    pub resource_types: Vec<String>,
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
                per_account: false,
            },
            Part {
                kind: "config-recording".into(),
                name: name.to_string(),
                after: vec![DELIVERY_CHANNEL],
                per_account: false,
            },
        ];
        parts.extend(self.rules.iter().map(|rule| Part {
            kind: "config-rule".into(),
            name: rule.name.value.clone(),
            after: vec![RECORDING],
            per_account: false,
        }));
        parts
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let all_supported_node = r.child_bool("all-supported");
    let all_supported = all_supported_node.as_ref().is_none_or(|b| b.value);
    let resource_types = r
        .child_strs(
            "resource-types",
            "resource types such as \"AWS::S3::Bucket\"",
        )
        .unwrap_or_default();
    check_recording_group(r, all_supported_node.as_ref(), &resource_types);
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
        resource_types: resource_types
            .into_iter()
            .map(|t| t.value)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        global_resources_region,
        role,
        delivery,
        rules,
    })
}

/// AWS Config refuses a recording group that records nothing (`allSupported` false and no
/// resource types) and one that names types while recording all of them
/// (InvalidRecordingGroupException, PutConfigurationRecorder).
fn check_recording_group(
    r: &NodeReader,
    all_supported: Option<&Spanned<bool>>,
    resource_types: &[Spanned<String>],
) {
    match (all_supported, resource_types.first()) {
        (Some(off), None) if !off.value => r.report(
            Problem::new(
                "baseline::invalid-value",
                off.span,
                "this recorder would record nothing: `all-supported #false` needs `resource-types`",
            )
            .label("records no resource type")
            .help("name what to record, e.g. resource-types \"AWS::IAM::Role\" \"AWS::S3::Bucket\", or record everything with `all-supported #true`"),
        ),
        (None | Some(Spanned { value: true, .. }), Some(first)) => r.report(
            Problem::new(
                "baseline::invalid-value",
                first.span,
                "`resource-types` only applies with `all-supported #false`",
            )
            .label("all supported types are recorded already")
            .help("add `all-supported #false` to record only these types, or remove `resource-types`"),
        ),
        _ => {}
    }
    for t in resource_types {
        let parts: Vec<&str> = t.value.split("::").collect();
        let ok = parts.len() == 3
            && parts[0] == "AWS"
            && parts[1..]
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !ok {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    t.span,
                    format!("\"{}\" is not a resource type", t.value),
                )
                .label("expected AWS::Service::Type")
                .help("AWS Config resource types read like \"AWS::S3::Bucket\""),
            );
        }
    }
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

/// The key prefixes of every declared Config delivery into the log bucket declared as
/// `bucket` (`None`: no prefix), for the bucket's policy.
pub fn deliveries_into(cx: &Ctx<'_>, bucket: &str) -> Vec<Option<String>> {
    cx.baseline
        .declarations
        .iter()
        .filter(|d| std::ptr::eq(d.kind, &KIND))
        .filter_map(|d| spec_of::<ConfigRecorder>(d)?.delivery.as_ref())
        .filter(|d| d.bucket.value == bucket)
        .map(|d| d.prefix.clone())
        .collect()
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

// --- AWS -------------------------------------------------------------------------------

/// AWS Config in one account and region, as four kinds of parts (dispatched on the
/// instance's kind): the recorder, the delivery channel and the recording status are
/// account-region singletons that AWS cannot tag (never adopted); each managed rule is
/// tagged, so an untagged rule with a declared name is adopted.
pub struct ConfigRecorderProvider;

/// The name baseline gives the recorder and the delivery channel it creates. An existing
/// recorder or channel (AWS allows one of each) is managed under whatever name it has.
const DEFAULT_NAME: &str = "default";
const CONFIG_PRINCIPAL: &str = "config.amazonaws.com";
const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForConfig";
/// What AWS Config uses when a channel names no frequency.
const DEFAULT_FREQUENCY: &str = "TwentyFour_Hours";

fn service_linked_role_arn(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/aws-service-role/{CONFIG_PRINCIPAL}/{SERVICE_LINKED_ROLE}")
}

/// The recorder's role: an ARN as written, a name in the instance's account, or the
/// Config service-linked role.
fn role_arn(spec: &ConfigRecorder, partition: &str, account: &str) -> String {
    match spec.role.as_deref() {
        Some(arn) if arn.starts_with("arn:") => arn.to_string(),
        Some(name) => format!("arn:{partition}:iam::{account}:role/{name}"),
        None => service_linked_role_arn(partition, account),
    }
}

/// Whether this region records global (IAM) resources. With `global-resources-region`,
/// only that region does (AWS advises recording them once, to avoid duplicate items and
/// cost); without it every region does, so that they are never left unrecorded. AWS only
/// accepts global types together with all supported types.
fn include_global(spec: &ConfigRecorder, region: &str) -> bool {
    spec.all_supported
        && spec
            .global_resources_region
            .as_ref()
            .is_none_or(|r| r.value == region)
}

fn rule_of<'a>(spec: &'a ConfigRecorder, inst: &Instance) -> Option<&'a ManagedRule> {
    spec.rules
        .iter()
        .find(|r| r.name.value == inst.address.name)
}

fn parameters_json(rule: &ManagedRule) -> Value {
    Value::Object(
        rule.parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A rule's InputParameters as an object of strings (AWS treats every value as a string);
/// text that is not a JSON object stays a string, so it shows as drift.
fn parse_parameters(input: Option<&str>) -> Value {
    let Some(text) = input.filter(|t| !t.trim().is_empty()) else {
        return json!({});
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, Value::String(v))
                })
                .collect(),
        ),
        _ => Value::String(text.to_string()),
    }
}

/// The account-region's customer-managed recorder (service-linked recorders that other
/// AWS services own are not baseline's).
async fn existing_recorder(
    config: &aws_sdk_config::Client,
) -> Result<Option<ConfigurationRecorder>, AwsError> {
    let out = config
        .describe_configuration_recorders()
        .send()
        .await
        .ctx("config:DescribeConfigurationRecorders")?;
    Ok(out
        .configuration_recorders()
        .iter()
        .find(|r| r.service_principal().is_none())
        .cloned())
}

async fn existing_channel(
    config: &aws_sdk_config::Client,
) -> Result<Option<DeliveryChannel>, AwsError> {
    let out = config
        .describe_delivery_channels()
        .send()
        .await
        .ctx("config:DescribeDeliveryChannels")?;
    Ok(out.delivery_channels().first().cloned())
}

/// Create the Config service-linked role if the account lacks it (API callers must; only
/// the console does it implicitly).
async fn ensure_service_linked_role(cx: &Ctx<'_>, inst: &Instance) -> provider::Result<()> {
    let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
    let role = iam
        .get_role()
        .role_name(SERVICE_LINKED_ROLE)
        .send()
        .await
        .absent_on("iam:GetRole", &["NoSuchEntity"])?;
    if role.is_some() {
        return Ok(());
    }
    if let Err(e) = iam
        .create_service_linked_role()
        .aws_service_name(CONFIG_PRINCIPAL)
        .send()
        .await
        .ctx("iam:CreateServiceLinkedRole")
    {
        // The recorder of another region of this account may have just created it.
        let exists = iam
            .get_role()
            .role_name(SERVICE_LINKED_ROLE)
            .send()
            .await
            .is_ok();
        if !exists {
            return Err(e.into());
        }
    }
    Ok(())
}

impl ConfigRecorderProvider {
    fn desired_attrs(cx: &Ctx<'_>, inst: &Instance, spec: &ConfigRecorder) -> Attrs {
        let mut a = Attrs::new();
        match inst.address.kind.as_str() {
            "config-recorder" => {
                a.insert(
                    "role-arn".into(),
                    json!(role_arn(spec, &cx.aws.partition, &inst.account_id)),
                );
                a.insert("all-supported".into(), json!(spec.all_supported));
                if !spec.all_supported {
                    a.insert("resource-types".into(), json!(spec.resource_types));
                }
                a.insert(
                    "include-global-resources".into(),
                    json!(include_global(spec, &inst.region)),
                );
            }
            "config-delivery-channel" => {
                if let Some(d) = &spec.delivery {
                    a.insert("bucket".into(), json!(bucket_name_of(cx, &d.bucket.value)));
                    a.insert("prefix".into(), json!(d.prefix));
                    a.insert("frequency".into(), json!(d.frequency));
                }
            }
            "config-recording" => {
                a.insert("recording".into(), json!(true));
            }
            "config-rule" => {
                if let Some(rule) = rule_of(spec, inst) {
                    a.insert("identifier".into(), json!(rule.identifier));
                    a.insert("parameters".into(), parameters_json(rule));
                }
            }
            _ => {}
        }
        a
    }

    async fn read_rule(config: &aws_sdk_config::Client, name: &str) -> provider::Result<Observed> {
        let out = config
            .describe_config_rules()
            .config_rule_names(name)
            .send()
            .await
            .absent_on("config:DescribeConfigRules", &["NoSuchConfigRuleException"])?;
        let Some(rule) = out.as_ref().and_then(|o| o.config_rules().first()) else {
            return Ok(Observed::absent());
        };
        let arn = rule.config_rule_arn().unwrap_or_default().to_string();
        let tags = config
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .ctx("config:ListTagsForResource")?;
        let managed = tags
            .tags()
            .iter()
            .any(|t| is_managed_tag(t.key(), t.value()));
        let mut attrs = Attrs::new();
        attrs.insert(
            "identifier".into(),
            json!(rule
                .source()
                .and_then(|s| s.source_identifier())
                .unwrap_or_default()),
        );
        attrs.insert(
            "parameters".into(),
            parse_parameters(rule.input_parameters()),
        );
        let mut ids = Attrs::new();
        ids.insert("arn".into(), json!(arn));
        Ok(Observed::present(attrs, ids, Some(managed)))
    }

    async fn put_recorder(
        cx: &Ctx<'_>,
        inst: &Instance,
        config: &aws_sdk_config::Client,
        spec: &ConfigRecorder,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let role = role_arn(spec, &cx.aws.partition, &inst.account_id);
        if spec.role.is_none() {
            ensure_service_linked_role(cx, inst).await?;
        }
        let mut group = RecordingGroup::builder()
            .all_supported(spec.all_supported)
            .include_global_resource_types(include_global(spec, &inst.region));
        if spec.all_supported {
            group = group.recording_strategy(
                RecordingStrategy::builder()
                    .use_only(RecordingStrategyType::AllSupportedResourceTypes)
                    .build(),
            );
        } else {
            group = group
                .set_resource_types(Some(
                    spec.resource_types
                        .iter()
                        .map(|t| ResourceType::from(t.as_str()))
                        .collect(),
                ))
                .recording_strategy(
                    RecordingStrategy::builder()
                        .use_only(RecordingStrategyType::InclusionByResourceTypes)
                        .build(),
                );
        }
        let recorder = ConfigurationRecorder::builder()
            .name(change.id("name").unwrap_or(DEFAULT_NAME))
            .role_arn(&role)
            .recording_group(group.build())
            .build();
        // A role IAM has just created (by this run, or by someone moments ago) is refused
        // by Config for a moment; an older role that Config refuses is a wrong role,
        // reported at once.
        with_new_role(
            cx,
            &inst.account_id,
            &role,
            |e| e.is("InvalidRoleException"),
            || async {
                config
                    .put_configuration_recorder()
                    .configuration_recorder(recorder.clone())
                    .send()
                    .await
                    .ctx("config:PutConfigurationRecorder")
            },
        )
        .await?;
        Ok(())
    }

    async fn put_channel(
        cx: &Ctx<'_>,
        config: &aws_sdk_config::Client,
        delivery: &Delivery,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let channel = DeliveryChannel::builder()
            .name(change.id("name").unwrap_or(DEFAULT_NAME))
            .s3_bucket_name(bucket_name_of(cx, &delivery.bucket.value))
            .set_s3_key_prefix(delivery.prefix.clone())
            .config_snapshot_delivery_properties(
                ConfigSnapshotDeliveryProperties::builder()
                    .delivery_frequency(MaximumExecutionFrequency::from(
                        delivery.frequency.as_str(),
                    ))
                    .build(),
            )
            .build();
        config
            .put_delivery_channel()
            .delivery_channel(channel)
            .send()
            .await
            .ctx("config:PutDeliveryChannel")?;
        Ok(())
    }

    async fn put_rule(
        config: &aws_sdk_config::Client,
        rule: &ManagedRule,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let source = Source::builder()
            .owner(Owner::Aws)
            .source_identifier(&rule.identifier)
            .build()
            .map_err(|e| Error::State(format!("config rule {}: {e}", rule.name.value)))?;
        // An empty object clears parameters a rule had; a new rule without any sends none.
        let had_parameters = change
            .live
            .and_then(|l| l.attrs.get("parameters"))
            .is_some_and(|p| p != &json!({}));
        let parameters = (!rule.parameters.is_empty() || had_parameters)
            .then(|| parameters_json(rule).to_string());
        let tag = Tag::builder()
            .key(MANAGED_TAG_KEY)
            .value(MANAGED_TAG_VALUE)
            .build();
        config
            .put_config_rule()
            .config_rule(
                ConfigRule::builder()
                    .config_rule_name(&rule.name.value)
                    .source(source)
                    .set_input_parameters(parameters)
                    .build(),
            )
            .tags(tag.clone())
            .send()
            .await
            .ctx("config:PutConfigRule")?;
        // PutConfigRule's tags apply when a rule is created; an adopted rule gets its tag here.
        if change.action == Action::Adopt {
            let arn = change.id("arn").ok_or_else(|| {
                Error::State(format!("config rule {}: no ARN was read", rule.name.value))
            })?;
            config
                .tag_resource()
                .resource_arn(arn)
                .tags(tag)
                .send()
                .await
                .ctx("config:TagResource")?;
        }
        Ok(())
    }
}

/// `baseline import`: the recorder of one account and region, with its delivery channel
/// (and that channel's bucket), whether it records, and its AWS managed rules.
async fn import_site(
    cx: &Ctx<'_>,
    site: &crate::import::Site,
    lookups: &crate::import::Lookups,
) -> provider::Result<crate::import::Imported> {
    use crate::import::{account_ref, kdl::Node, Found, Imported, Skipped};
    let mut out = Imported::default();
    let (account, region) = (site.account_id.as_str(), site.region.as_str());
    let config = cx.aws.config_service(account, region).await?;
    let Some(recorder) = existing_recorder(&config).await? else {
        return Ok(out);
    };
    let what = format!(
        "{} in {} ({region})",
        KIND.keyword,
        account_ref(cx.org, account)
    );
    let skip = |out: &mut Imported, why: String| {
        out.skipped.push(Skipped {
            what: what.clone(),
            why,
        })
    };
    let mut node = Node::new(KIND.keyword).comment("AWS Config");
    let mut notes = Vec::new();
    let group = recorder.recording_group();
    let all_supported = group.is_some_and(|g| g.all_supported());
    if !all_supported {
        let mut types: Vec<&str> = group
            .map(|g| g.resource_types())
            .unwrap_or_default()
            .iter()
            .map(|t| t.as_str())
            .collect();
        types.sort_unstable();
        if types.is_empty() {
            skip(
                &mut out,
                "it records by exclusion of resource types, which the language does not say"
                    .to_string(),
            );
            return Ok(out);
        }
        node = node
            .child(Node::new("all-supported").arg(false))
            .child(Node::new("resource-types").args(types));
    } else {
        // Which of this account's regions record global resources: all of them (the
        // language's default), or one (`global-resources-region`).
        let mut global = Vec::new();
        let mut recording = Vec::new();
        for r in lookups.regions_of(cx, account) {
            let other = if r == region {
                Some(recorder.clone())
            } else {
                existing_recorder(&cx.aws.config_service(account, &r).await?).await?
            };
            let Some(g) = other.as_ref().and_then(|o| o.recording_group()) else {
                continue;
            };
            if g.all_supported() {
                recording.push(r.clone());
                if g.include_global_resource_types() {
                    global.push(r);
                }
            }
        }
        if global.len() == 1 && recording.len() > 1 {
            node = node.child(Node::new("global-resources-region").arg(&global[0]));
        } else if global != recording {
            notes.push(format!(
                "it records global resources (IAM) in {} of its regions ({}), which the \
                 language cannot say: the plan records them in every region",
                if global.is_empty() { "none" } else { "some" },
                global.join(", ")
            ));
        }
    }
    let role = recorder.role_arn().unwrap_or_default();
    if role != service_linked_role_arn(&cx.aws.partition, account) {
        let prefix = format!("arn:{}:iam::{account}:role/", cx.aws.partition);
        node = node.child(Node::new("role").arg(role.strip_prefix(&prefix).unwrap_or(role)));
    }
    let Some(channel) = existing_channel(&config).await? else {
        skip(
            &mut out,
            "it has no delivery channel, which the language declares with the recorder".to_string(),
        );
        return Ok(out);
    };
    let bucket = channel.s3_bucket_name().unwrap_or_default();
    let (found, bucket_decl) = match super::log_bucket::import_bucket(cx, lookups, bucket).await? {
        Ok(b) => b,
        Err(why) => {
            skip(&mut out, why);
            return Ok(out);
        }
    };
    let mut delivery = Node::new("delivery").prop("bucket", bucket_decl);
    let frequency = channel
        .config_snapshot_delivery_properties()
        .and_then(|p| p.delivery_frequency())
        .map_or(DEFAULT_FREQUENCY, |f| f.as_str());
    if frequency != DEFAULT_FREQUENCY {
        delivery = delivery.prop("frequency", frequency);
    }
    if let Some(prefix) = channel.s3_key_prefix().filter(|p| !p.is_empty()) {
        delivery = delivery.prop("prefix", prefix);
    }
    node = node.child(delivery);
    if channel.sns_topic_arn().is_some_and(|t| !t.is_empty()) {
        notes.push(
            "its delivery channel also notifies an SNS topic, which the language does not \
             declare: left as it is"
                .to_string(),
        );
    }
    let status = config
        .describe_configuration_recorder_status()
        .configuration_recorder_names(recorder.name().unwrap_or(DEFAULT_NAME))
        .send()
        .await
        .ctx("config:DescribeConfigurationRecorderStatus")?;
    if !status
        .configuration_recorders_status()
        .iter()
        .any(|s| s.recording())
    {
        notes.push("the recorder is stopped: apply starts it".to_string());
    }
    let mut rules: Vec<ConfigRule> = config
        .describe_config_rules()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("config:DescribeConfigRules")?;
    rules.sort_by(|a, b| a.config_rule_name().cmp(&b.config_rule_name()));
    for rule in rules {
        let name = rule.config_rule_name().unwrap_or_default();
        let rule_what = format!("config-rule \"{name}\"");
        if let Some(by) = rule.created_by().filter(|b| !b.is_empty()) {
            out.skipped.push(Skipped {
                what: rule_what,
                why: format!("created by {by}"),
            });
            continue;
        }
        let source = rule.source();
        let Some(identifier) = source
            .filter(|s| s.owner() == &Owner::Aws)
            .and_then(|s| s.source_identifier())
        else {
            out.skipped.push(Skipped {
                what: rule_what,
                why: "a custom rule; the language declares AWS managed rules".to_string(),
            });
            continue;
        };
        let mut r = Node::new("rule").arg(name).prop("identifier", identifier);
        match parse_parameters(rule.input_parameters()) {
            Value::Object(parameters) => {
                let mut parameters: Vec<(String, Value)> = parameters.into_iter().collect();
                parameters.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, v) in parameters {
                    r = r.child(
                        Node::new("parameter")
                            .arg(k)
                            .arg(v.as_str().unwrap_or_default()),
                    );
                }
            }
            _ => {
                out.skipped.push(Skipped {
                    what: rule_what,
                    why: "its parameters are not a JSON object".to_string(),
                });
                continue;
            }
        }
        node = node.child(r);
    }
    let mut recorder_found = Found::new(node);
    recorder_found.notes = notes;
    out.found.extend(found);
    out.found.push(recorder_found);
    Ok(out)
}

#[async_trait]
impl Provider for ConfigRecorderProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<ConfigRecorder>(cx.decl(inst))
            .map_or_else(Attrs::new, |spec| Self::desired_attrs(cx, inst, spec))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let config = cx
            .aws
            .config_service(&inst.account_id, &inst.region)
            .await?;
        let mut ids = Attrs::new();
        let mut attrs = Attrs::new();
        match inst.address.kind.as_str() {
            "config-recorder" => {
                let Some(r) = existing_recorder(&config).await? else {
                    return Ok(Observed::absent());
                };
                let group = r.recording_group();
                attrs.insert("role-arn".into(), json!(r.role_arn().unwrap_or_default()));
                attrs.insert(
                    "all-supported".into(),
                    json!(group.is_some_and(|g| g.all_supported())),
                );
                let mut types: Vec<&str> = group
                    .map(|g| g.resource_types())
                    .unwrap_or_default()
                    .iter()
                    .map(|t| t.as_str())
                    .collect();
                types.sort_unstable();
                attrs.insert("resource-types".into(), json!(types));
                attrs.insert(
                    "include-global-resources".into(),
                    json!(group.is_some_and(|g| g.include_global_resource_types())),
                );
                ids.insert("name".into(), json!(r.name().unwrap_or(DEFAULT_NAME)));
            }
            "config-delivery-channel" => {
                let Some(c) = existing_channel(&config).await? else {
                    return Ok(Observed::absent());
                };
                attrs.insert("bucket".into(), json!(c.s3_bucket_name()));
                attrs.insert(
                    "prefix".into(),
                    json!(c.s3_key_prefix().filter(|p| !p.is_empty())),
                );
                attrs.insert(
                    "frequency".into(),
                    json!(c
                        .config_snapshot_delivery_properties()
                        .and_then(|p| p.delivery_frequency())
                        .map_or(DEFAULT_FREQUENCY, |f| f.as_str())),
                );
                ids.insert("name".into(), json!(c.name().unwrap_or(DEFAULT_NAME)));
            }
            "config-recording" => {
                // The status belongs to the recorder: no recorder, nothing recording. Every
                // recorder of the region has a status, so one call finds both (service-linked
                // recorders, which other services own, aside).
                let out = config
                    .describe_configuration_recorder_status()
                    .send()
                    .await
                    .ctx("config:DescribeConfigurationRecorderStatus")?;
                let Some(status) = out
                    .configuration_recorders_status()
                    .iter()
                    .find(|s| s.service_principal().is_none())
                else {
                    return Ok(Observed::absent());
                };
                attrs.insert("recording".into(), json!(status.recording()));
                ids.insert("name".into(), json!(status.name().unwrap_or(DEFAULT_NAME)));
            }
            "config-rule" => return Self::read_rule(&config, &inst.address.name).await,
            other => return Err(Error::State(format!("config-recorder has no part {other}"))),
        }
        // Control Tower's recorder and channel (aws-controltower-BaselineConfig*) are the
        // region's only ones in an enrolled account: reported, never changed.
        let owner = ids
            .get("name")
            .and_then(Value::as_str)
            .and_then(|name| crate::coexist::owner_of(name, []));
        Ok(Observed::present(attrs, ids, None).owned_by(owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<ConfigRecorder>(cx.decl(inst)) else {
            return Ok(());
        };
        let config = cx
            .aws
            .config_service(&inst.account_id, &inst.region)
            .await?;
        match inst.address.kind.as_str() {
            "config-recorder" => Self::put_recorder(cx, inst, &config, spec, change).await,
            "config-delivery-channel" => match &spec.delivery {
                Some(d) => Self::put_channel(cx, &config, d, change).await,
                None => Ok(()),
            },
            "config-recording" => {
                // Read again: at plan time the recorder may not have existed yet.
                let recorder = existing_recorder(&config).await?.ok_or_else(|| {
                    Error::State(format!("{}: there is no recorder to start", inst.address))
                })?;
                config
                    .start_configuration_recorder()
                    .configuration_recorder_name(recorder.name().unwrap_or(DEFAULT_NAME))
                    .send()
                    .await
                    .ctx("config:StartConfigurationRecorder")?;
                Ok(())
            }
            "config-rule" => match rule_of(spec, inst) {
                Some(rule) => Self::put_rule(&config, rule, change).await,
                None => Ok(()),
            },
            other => Err(Error::State(format!("config-recorder has no part {other}"))),
        }
    }

    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        Ok(Some(import_site(cx, site, lookups).await?))
    }
}

#[cfg(test)]
mod aws_tests {
    use super::parse_parameters;
    use serde_json::json;

    #[test]
    fn parameters_compare_as_objects_of_strings() {
        assert_eq!(parse_parameters(None), json!({}));
        assert_eq!(
            parse_parameters(Some(
                r#"{"MinimumPasswordLength": 14, "RequireSymbols":"true"}"#
            )),
            json!({"RequireSymbols": "true", "MinimumPasswordLength": "14"})
        );
        assert_eq!(parse_parameters(Some("not json")), json!("not json"));
    }
}
