//! Coexistence with the other tools that own parts of an organization: AWS Control Tower,
//! Landing Zone Accelerator, CloudFormation (StackSets) and Terraform. A resource one of them
//! owns is recognised by its name or tags and never adopted, changed or deleted: the plan
//! reports it as managed by that tool (`Observed::owner`), with how it differs.

/// The tool that owns a resource called `name` with `tags`, if another tool does.
pub fn owner_of<'a>(
    name: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    // Control Tower names what it deploys aws-controltower-* (trails, recorders, roles,
    // topics, buckets; its log group aws-controltower/CloudTrailLogs) and its preventive
    // controls' SCPs aws-guardrails-*.
    if ["aws-controltower-", "aws-controltower/", "aws-guardrails-"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        return Some("AWS Control Tower".to_string());
    }
    // Landing Zone Accelerator prefixes its resources with its own name (aws-accelerator-
    // for buckets, which are lower case).
    if name.starts_with("AWSAccelerator") || name.starts_with("aws-accelerator-") {
        return Some("Landing Zone Accelerator".to_string());
    }
    let mut owner = None;
    for (key, value) in tags {
        let found = match key {
            // The stack of a StackSet instance is called StackSet-<set>-<id>.
            "aws:cloudformation:stack-name" if value.starts_with("StackSet-") => {
                "CloudFormation StackSets"
            }
            "aws:cloudformation:stack-set-id" => "CloudFormation StackSets",
            k if k.starts_with("aws:cloudformation:") => "CloudFormation",
            "Accelerator" if value == "AWSAccelerator" => "Landing Zone Accelerator",
            "aws-control-tower" => "AWS Control Tower",
            k if k.eq_ignore_ascii_case("managed-by") || k.eq_ignore_ascii_case("managedby") => {
                if value.eq_ignore_ascii_case("terraform") {
                    "Terraform"
                } else {
                    continue;
                }
            }
            _ => continue,
        };
        // A StackSet's stack is also a stack: the more precise answer wins.
        if owner != Some("CloudFormation StackSets") {
            owner = Some(found);
        }
    }
    owner.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::owner_of;

    #[test]
    fn other_tools_are_recognised_by_name_and_tags() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            owner_of("aws-guardrails-WyZxVb", none).as_deref(),
            Some("AWS Control Tower")
        );
        assert_eq!(
            owner_of("aws-controltower-BaselineCloudTrail", none).as_deref(),
            Some("AWS Control Tower")
        );
        assert_eq!(
            owner_of(
                "guardrails",
                [
                    ("aws:cloudformation:stack-name", "StackSet-org-scps-4f1c"),
                    ("aws:cloudformation:logical-id", "Policy")
                ]
            )
            .as_deref(),
            Some("CloudFormation StackSets")
        );
        assert_eq!(
            owner_of("x", [("aws:cloudformation:stack-name", "network")]).as_deref(),
            Some("CloudFormation")
        );
        assert_eq!(
            owner_of("x", [("Accelerator", "AWSAccelerator")]).as_deref(),
            Some("Landing Zone Accelerator")
        );
        assert_eq!(
            owner_of("x", [("ManagedBy", "Terraform")]).as_deref(),
            Some("Terraform")
        );
        // baseline's own tag, and anything else, is nobody else's.
        assert_eq!(owner_of("x", [("managed-by", "baseline")]), None);
        assert_eq!(owner_of("deny-leave-organization", [("team", "sec")]), None);
        assert_eq!(
            owner_of("aws-controltower/CloudTrailLogs", none).as_deref(),
            Some("AWS Control Tower")
        );
        assert_eq!(
            owner_of("aws-accelerator-central-logs-111111111111-us-east-1", none).as_deref(),
            Some("Landing Zone Accelerator")
        );
    }
}
