"""Strict behaviour of the emulator (issue 10): AWS's eventual consistency and
the organization-wide state moto answers too eagerly or not at all. See also
the module docstring of baseline_moto_ext and tests/emulator/README.md.

"A moment" below is emulator_settings.consistency_seconds() (server.py
--consistency-window, default 0.5 s, 0 turns every window off). Windows are
computed lazily from the time something was created or changed; there are no
background threads.

organizations  EnablePolicyType leaves the type PENDING_ENABLE on the root for
               a moment (the EnablePolicyType response's Root and ListRoots
               show it), then ENABLED; DisablePolicyType leaves it
               PENDING_DISABLE, then drops it from the root's PolicyTypes.
               While a type is pending, AttachPolicy of a policy of that type
               fails with PolicyTypeNotEnabledException, and Enable/
               DisablePolicyType of that type with
               ConcurrentModificationException.
kms            For a moment after CreateKey, every lookup of the new key by id
               or ARN (DescribeKey, CreateAlias's TargetKeyId, key rotation,
               key policy, tags, ...) answers NotFoundException, as for an
               unknown key; for a moment after CreateAlias the alias resolves
               to nothing (NotFoundException "Alias ... is not found.").
               Patched in KmsBackend itself (its `keys` mapping,
               get_key_id_from_alias, any_id_to_key_id), so code that resolves
               keys through the backend (KmsBackend.describe_key) sees the
               window too. CreateKey's response, ListKeys and ListAliases show
               the new key or alias at once.
iam/config/backup
               For a moment after CreateRole / CreateServiceLinkedRole, AWS
               Config and AWS Backup cannot assume the new role:
               PutConfigurationRecorder answers InvalidRoleException and
               CreateBackupSelection InvalidParameterValueException ("IAM Role
               ... cannot be assumed by AWS Backup"). Both also refuse a role
               whose trust policy does not let their service principal
               assume it.
backup         CreateBackupSelection refuses an IamRoleArn of its own account
               that does not exist (InvalidParameterValueException, as above).
iam            AWS managed policies (arn:aws:iam::aws:policy/...) exist without
               MOTO_IAM_LOAD_MANAGED_POLICIES: moto's bundled copy is parsed
               once per process and a policy is materialised in an account the
               first time it is named (Attach{Role,User,Group}Policy,
               GetPolicy, GetPolicyVersion, ListPolicyVersions). An unknown
               arn:aws:iam::aws:policy/... stays NoSuchEntity.
securityhub    Organization administration per region: EnableOrganizationAdmin-
               Account (management account only; enables Security Hub in the
               administrator account), DisableOrganizationAdminAccount,
               ListOrganizationAdminAccounts (missing in moto), Describe/
               UpdateOrganizationConfiguration for the administrator only
               (others: InvalidAccessException), ConfigurationType LOCAL or
               CENTRAL (Status PENDING for a moment, then ENABLED).
               Central configuration: Create/Get/List/DeleteConfiguration-
               Policy, Start/GetConfigurationPolicyAssociation and
               StartConfigurationPolicyDisassociation (the policy's
               ServiceEnabled and EnabledStandardIdentifiers are applied to
               the accounts under the target in that region). A member account
               that is centrally managed (a configuration policy applies to
               it, directly or through its OU or the root) cannot run
               EnableSecurityHub, DisableSecurityHub, BatchEnableStandards or
               BatchDisableStandards itself (AccessDeniedException).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import emulator_settings
from moto.backup.exceptions import InvalidParameterValueException
from moto.backup.responses import BackupResponse
from moto.config.models import ConfigBackend
from moto.core.exceptions import JsonRESTError
from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.kms.exceptions import NotFoundException as KmsNotFound
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse
from moto.organizations.exceptions import (
    InvalidInputException as OrgInvalidInput,
)
from moto.organizations.exceptions import (
    OrganizationsClientError,
    PolicyTypeAlreadyEnabledException,
    PolicyTypeNotEnabledException,
)
from moto.organizations.models import FakePolicy, FakeRoot, OrganizationsBackend
from moto.organizations.models import organizations_backends
from moto.securityhub import urls as securityhub_urls
from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import SecurityHubBackend, securityhub_backends
from moto.securityhub.responses import SecurityHubResponse
from moto.utilities.utils import get_partition

_APPLIED = False
# baseline_moto_ext, imported in apply(): importing it here would make a
# stand-alone import of this module re-enter the extension's apply().
_ext: Any = None


def _window() -> float:
    return emulator_settings.consistency_seconds()


def _fresh(since: float | None) -> bool:
    """Whether something that changed at `since` is still settling."""
    return since is not None and time.time() - since < _window()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------
# Organizations: policy types are enabled and disabled asynchronously
# --------------------------------------------------------------------------

_CONCURRENT_MESSAGE = (
    "AWS Organizations can't complete your request because it conflicts with "
    "another attempt to modify the same entity. Try again later."
)


def _type_changed_at(root: FakeRoot) -> dict[str, float]:
    """policy type -> when it was last enabled or disabled."""
    return root.__dict__.setdefault("baseline_policy_type_changed", {})


def _settled_policy_types(root: FakeRoot) -> list[dict[str, str]]:
    """The root's PolicyTypes, with pending changes that are due applied."""
    types: list[dict[str, str]] = root.__dict__.setdefault("baseline_policy_types", [])
    changed = _type_changed_at(root)
    for entry in list(types):
        if _fresh(changed.get(entry["Type"])):
            continue
        if entry["Status"] == "PENDING_ENABLE":
            entry["Status"] = "ENABLED"
        elif entry["Status"] == "PENDING_DISABLE":
            types.remove(entry)
    return types


def _set_policy_types(root: FakeRoot, value: list[dict[str, str]]) -> None:
    root.__dict__["baseline_policy_types"] = value


def _policy_type_entry(root: FakeRoot, policy_type: str) -> dict[str, str] | None:
    return next((t for t in root.policy_types if t["Type"] == policy_type), None)


def _add_policy_type(root: FakeRoot, policy_type: str) -> None:
    if policy_type not in FakeRoot.SUPPORTED_POLICY_TYPES:
        raise OrgInvalidInput("You specified an invalid value.")
    entry = _policy_type_entry(root, policy_type)
    if entry is not None and entry["Status"] == "ENABLED":
        raise PolicyTypeAlreadyEnabledException()
    if entry is not None:  # PENDING_ENABLE or PENDING_DISABLE
        raise OrganizationsClientError("ConcurrentModificationException", _CONCURRENT_MESSAGE)
    _type_changed_at(root)[policy_type] = time.time()
    root.policy_types.append({"Type": policy_type, "Status": "PENDING_ENABLE"})


def _remove_policy_type(root: FakeRoot, policy_type: str) -> None:
    if not FakePolicy.supported_policy_type(policy_type):
        raise OrgInvalidInput("You specified an invalid value.")
    entry = _policy_type_entry(root, policy_type)
    if entry is None:
        raise PolicyTypeNotEnabledException()
    if entry["Status"] != "ENABLED":
        raise OrganizationsClientError("ConcurrentModificationException", _CONCURRENT_MESSAGE)
    _type_changed_at(root)[policy_type] = time.time()
    entry["Status"] = "PENDING_DISABLE"


def _patch_org_policy_types() -> None:
    """PENDING_ENABLE / PENDING_DISABLE for a moment. Every reader of
    FakeRoot.policy_types (ListRoots, the EnablePolicyType response, the
    extension's AttachPolicy check, which wants ENABLED) sees the settled
    state, because the attribute itself settles when it is read."""
    FakeRoot.policy_types = property(_settled_policy_types, _set_policy_types)
    FakeRoot.add_policy_type = _add_policy_type
    FakeRoot.remove_policy_type = _remove_policy_type


# --------------------------------------------------------------------------
# KMS: new keys and aliases are not found for a moment
# --------------------------------------------------------------------------


class _SettlingKeys(dict):  # type: ignore[type-arg]
    """KmsBackend.keys. A key made by CreateKey is left out of lookups
    (`in`, [], get) for a moment; iteration (ListKeys, alias scans) sees it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.created_at: dict[str, float] = {}

    def settling(self, key_id: Any) -> bool:
        return isinstance(key_id, str) and _fresh(self.created_at.get(key_id))

    def __contains__(self, key_id: object) -> bool:
        return super().__contains__(key_id) and not self.settling(key_id)

    def __getitem__(self, key_id: str) -> Any:
        if self.settling(key_id):
            key = super().__getitem__(key_id)
            raise KmsNotFound(f"Key '{key.arn}' does not exist")
        return super().__getitem__(key_id)

    def get(self, key_id: str, default: Any = None) -> Any:
        return self[key_id] if key_id in self else default


def _backend_keys(backend: KmsBackend) -> _SettlingKeys:
    return backend.__dict__["baseline_keys"]


def _set_backend_keys(backend: KmsBackend, value: dict[str, Any]) -> None:
    backend.__dict__["baseline_keys"] = (
        value if isinstance(value, _SettlingKeys) else _SettlingKeys(value)
    )


def _alias_settling(backend: KmsBackend, alias_name: str) -> bool:
    for key in dict.values(_backend_keys(backend)):
        alias = key.aliases.get(alias_name)
        if alias is not None:
            return _fresh(getattr(alias, "baseline_created_at", None))
    return False


def _alias_arn(backend: KmsBackend, alias_name: str) -> str:
    region = backend.region_name
    return f"arn:{get_partition(region)}:kms:{region}:{backend.account_id}:{alias_name}"


def _patch_kms_settling() -> None:
    """NotFoundException for a moment after CreateKey / CreateAlias."""
    original_create_key = KmsResponse.create_key
    original_create_alias = KmsBackend.create_alias
    original_from_alias = KmsBackend.get_key_id_from_alias
    original_any_id = KmsBackend.any_id_to_key_id

    def create_key(self: KmsResponse) -> str:
        body = original_create_key(self)
        key_id = json.loads(body)["KeyMetadata"]["KeyId"]
        # Only keys made through the API settle: the AWS managed keys behind
        # alias/aws/* exist before anyone asks for them.
        _backend_keys(self.kms_backend).created_at[key_id] = time.time()
        return body

    def create_alias(self: KmsBackend, target_key_id: str, alias_name: str) -> Any:
        alias = original_create_alias(self, target_key_id, alias_name)
        if not alias_name.startswith("alias/aws/"):
            alias.baseline_created_at = time.time()
        return alias

    def get_key_id_from_alias(self: KmsBackend, alias_name: str) -> str | None:
        key_id = original_from_alias(self, alias_name)
        if key_id is not None and _alias_settling(self, alias_name):
            return None
        return key_id

    def any_id_to_key_id(self: KmsBackend, key_id: str) -> str:
        name = self.get_alias_name(key_id)
        # moto fails with a TypeError (HTTP 500) on an alias that resolves to nothing.
        if name.startswith("alias/") and self.get_key_id_from_alias(name) is None:
            raise KmsNotFound(f"Alias {_alias_arn(self, name)} is not found.")
        return original_any_id(self, key_id)

    KmsBackend.keys = property(_backend_keys, _set_backend_keys)
    KmsResponse.create_key = create_key
    KmsBackend.create_alias = create_alias
    KmsBackend.get_key_id_from_alias = get_key_id_from_alias
    KmsBackend.any_id_to_key_id = any_id_to_key_id


# --------------------------------------------------------------------------
# IAM roles: Config and Backup can assume a role only once it has settled
# --------------------------------------------------------------------------


def _patch_iam_role_created_at() -> None:
    """Remember when each role was created (CreateServiceLinkedRole goes
    through create_role too)."""
    original = iam_models.IAMBackend.create_role

    def create_role(self: iam_models.IAMBackend, *args: Any, **kwargs: Any) -> Any:
        role = original(self, *args, **kwargs)
        role.baseline_created_at = time.time()
        return role

    iam_models.IAMBackend.create_role = create_role


def _own_role(account_id: str, region: str, role_arn: str) -> Any:
    """The role if `role_arn` names an existing role of `account_id`, None if
    it names one that does not exist, False if it is another account's
    (which the emulator does not check)."""
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[4] != account_id:
        return False
    iam = iam_models.iam_backends[account_id][get_partition(region)]
    try:
        return iam.get_role_by_arn(role_arn)
    except Exception:
        return None


def _trusts_service(role: Any, service: str) -> bool:
    """Whether the role's trust policy lets `service` call sts:AssumeRole
    (conditions are not evaluated)."""
    try:
        document = role.assume_role_policy_document
        if isinstance(document, str):
            document = json.loads(unquote(document) if document.startswith("%") else document)
        statements = _as_list(document.get("Statement"))
    except (ValueError, AttributeError):
        return False
    for st in statements:
        principal = st.get("Principal")
        actions = [str(a).lower() for a in _as_list(st.get("Action"))]
        trusted = principal == "*" or (
            isinstance(principal, dict)
            and (service in _as_list(principal.get("Service"))
                 or "*" in _as_list(principal.get("AWS")))
        )
        if (
            st.get("Effect") == "Allow"
            and trusted
            and any(a in ("sts:assumerole", "sts:*", "*") for a in actions)
        ):
            return True
    return False


def _assumable(role: Any, service: str) -> bool:
    return not _fresh(getattr(role, "baseline_created_at", None)) and _trusts_service(
        role, service
    )


def _patch_config_role_settling() -> None:
    """PutConfigurationRecorder: InvalidRoleException while the role settles
    or when it does not trust config.amazonaws.com (the extension already
    refuses a role of the account that does not exist)."""
    original = ConfigBackend.put_configuration_recorder

    def put_configuration_recorder(self: ConfigBackend, config_recorder: dict[str, Any]) -> None:
        role_arn = config_recorder.get("roleARN") or ""
        role = _own_role(self.account_id, self.region_name, role_arn)
        if role and not _assumable(role, "config.amazonaws.com"):
            raise JsonRESTError(
                "InvalidRoleException",
                f"Unable to assume role {role_arn}: the role does not exist or does "
                "not trust config.amazonaws.com.",
            )
        original(self, config_recorder)

    ConfigBackend.put_configuration_recorder = put_configuration_recorder


def _patch_backup_selection_role() -> None:
    """CreateBackupSelection: the role must exist, trust backup.amazonaws.com
    and have settled. Wraps the extension's handler."""
    original = BackupResponse.create_backup_selection

    def create_backup_selection(self: BackupResponse) -> str:
        backend = self.backup_backend
        # An unknown plan is reported first, as before.
        _ext._live_plan(backend, _ext._plan_id_from_path(self.path))
        selection = _ext._body(self).get("BackupSelection") or {}
        role_arn = selection.get("IamRoleArn") or ""
        role = _own_role(backend.account_id, backend.region_name, role_arn)
        if role is None or (role and not _assumable(role, "backup.amazonaws.com")):
            # terraform-provider-aws retries on exactly this message.
            raise InvalidParameterValueException(
                f"IAM Role {role_arn} cannot be assumed by AWS Backup"
            )
        return original(self)

    BackupResponse.create_backup_selection = create_backup_selection


# --------------------------------------------------------------------------
# IAM: AWS managed policies, materialised on first use
# --------------------------------------------------------------------------

_AWS_POLICIES: dict[str, tuple[str, dict[str, Any]]] | None = None
_AWS_POLICIES_LOCK = threading.Lock()


def _aws_policy_index() -> dict[str, tuple[str, dict[str, Any]]]:
    """'<path><name>' -> (name, data) from moto's bundled copy, parsed once
    (~30 ms); building every policy in every account would cost ~70 ms and
    ~5 MB per account."""
    global _AWS_POLICIES
    with _AWS_POLICIES_LOCK:
        if _AWS_POLICIES is None:
            parsed = json.loads(aws_managed_policies_data)
            _AWS_POLICIES = {
                f"{data.get('Path', '/')}{name}": (name, data) for name, data in parsed.items()
            }
        return _AWS_POLICIES


def _materialise_aws_policy(backend: iam_models.IAMBackend, policy_arn: Any) -> None:
    if not isinstance(policy_arn, str) or policy_arn in backend.managed_policies:
        return
    marker = ":iam::aws:policy"
    if marker not in policy_arn or not policy_arn.startswith("arn:"):
        return
    found = _aws_policy_index().get(policy_arn.split(marker, 1)[1])
    if found is None:
        return  # moto answers NoSuchEntity, as AWS does
    name, data = found
    policy = iam_models.AWSManagedPolicy.from_data(
        name, backend.account_id, backend.region_name, data
    )
    if policy.arn == policy_arn:
        backend.managed_policies[policy.arn] = policy
        backend.aws_managed_policies.append(policy)


def _patch_iam_aws_managed_policies() -> None:
    """Attach/Get of an AWS managed policy finds it without loading them all."""

    def wrap(name: str) -> None:
        original: Callable[..., Any] = getattr(iam_models.IAMBackend, name)

        def method(self: iam_models.IAMBackend, *args: Any, **kwargs: Any) -> Any:
            _materialise_aws_policy(self, kwargs.get("policy_arn", args[0] if args else None))
            return original(self, *args, **kwargs)

        setattr(iam_models.IAMBackend, name, method)

    for name in ("attach_role_policy", "attach_user_policy", "attach_group_policy",
                 "get_policy", "get_policy_version", "list_policy_versions"):
        wrap(name)


# --------------------------------------------------------------------------
# Security Hub in an organization
# --------------------------------------------------------------------------

_SELF_MANAGED = "SELF_MANAGED_SECURITY_HUB"


def _sh_error(code: str, message: str) -> SecurityHubClientError:
    return SecurityHubClientError(code, message)


def _organization(account_id: str) -> dict[str, Any] | None:
    """The caller's organization (DescribeOrganization), or None."""
    try:
        return organizations_backends[account_id]["aws"].describe_organization()[
            "Organization"
        ]
    except OrganizationsClientError:
        return None


def _fresh_org_state(org_id: str) -> dict[str, Any]:
    return {
        "OrgId": org_id,
        "Admin": None,
        "AutoEnable": False,
        "AutoEnableStandards": "DEFAULT",
        "ConfigurationType": "LOCAL",
        "CentralSince": None,
        "Policies": {},  # id -> policy
        "Associations": {},  # target id -> {"PolicyId", "TargetType", "UpdatedAt"}
    }


def _org_state_for(mgmt_id: str, org_id: str, region: str) -> dict[str, Any]:
    """Security Hub's organization settings for one region, kept on the
    management account's backend of that region (so a reset clears them)."""
    backend = securityhub_backends[mgmt_id][region]
    state = backend.__dict__.get("baseline_org_hub")
    if state is None or state["OrgId"] != org_id:
        state = backend.__dict__["baseline_org_hub"] = _fresh_org_state(org_id)
    return state


def _org_state(backend: SecurityHubBackend) -> dict[str, Any] | None:
    org = _organization(backend.account_id)
    if org is None:
        return None
    return _org_state_for(org["MasterAccountId"], org["Id"], backend.region_name)


def _require_management(backend: SecurityHubBackend, code: str) -> dict[str, Any]:
    org = _organization(backend.account_id)
    if org is None or org["MasterAccountId"] != backend.account_id:
        if code == "AccessDeniedException":
            message = (
                "The request was rejected because you don't have sufficient permissions "
                "to perform this operation. The security token included in the request "
                "is for an account that isn't authorized to perform this operation."
            )
        else:
            message = (
                f"Account {backend.account_id} is not the management account of an "
                "organization"
            )
        raise _sh_error(code, message)
    return org


def _require_admin(backend: SecurityHubBackend) -> dict[str, Any]:
    state = _org_state(backend)
    if state is None or state["Admin"] != backend.account_id:
        raise _sh_error(
            "InvalidAccessException",
            f"Account {backend.account_id} is not an administrator for this organization",
        )
    return state


def _require_central(backend: SecurityHubBackend) -> dict[str, Any]:
    state = _require_admin(backend)
    if state["ConfigurationType"] != "CENTRAL":
        raise _sh_error(
            "AccessDeniedException",
            "Central configuration is not enabled for the organization in "
            f"{backend.region_name}. Call UpdateOrganizationConfiguration with "
            "ConfigurationType CENTRAL first.",
        )
    return state


def _other_region_admins(mgmt_id: str, org_id: str, region: str) -> set[str]:
    admins = set()
    for other_region, backend in securityhub_backends[mgmt_id].items():
        state = backend.__dict__.get("baseline_org_hub")
        if other_region != region and state and state["OrgId"] == org_id and state["Admin"]:
            admins.add(state["Admin"])
    return admins


def _enable_admin(self: SecurityHubBackend, admin_account_id: str) -> None:
    """EnableOrganizationAdminAccount (management account, per region)."""
    org = _require_management(self, "AccessDeniedException")
    try:
        self.org_backend.get_account_by_id(admin_account_id)
    except OrganizationsClientError:
        raise _sh_error(
            "InvalidInputException",
            f"The request was rejected because the account {admin_account_id} is not "
            f"a member of organization {org['Id']}.",
        )
    state = _org_state_for(self.account_id, org["Id"], self.region_name)
    others = _other_region_admins(self.account_id, org["Id"], self.region_name)
    current = state["Admin"] or next(iter(others), None)
    if current not in (None, admin_account_id):
        # The delegated administrator is the organization's, in every region.
        raise _sh_error(
            "InvalidInputException",
            f"The request was rejected because account {current} is already the "
            "Security Hub administrator account of the organization. Disable it first.",
        )
    state["Admin"] = admin_account_id
    # "Security Hub is automatically enabled in the delegated administrator
    # account in the Region in which it was designated."
    admin_hub = securityhub_backends[admin_account_id][self.region_name]
    if not admin_hub.enabled:
        admin_hub.enable_security_hub(enable_default_standards=True)


def _disable_admin(backend: SecurityHubBackend, admin_account_id: str) -> None:
    org = _require_management(backend, "AccessDeniedException")
    state = _org_state_for(backend.account_id, org["Id"], backend.region_name)
    if state["Admin"] != admin_account_id:
        raise _sh_error(
            "InvalidInputException",
            f"The request was rejected because account {admin_account_id} is not the "
            "Security Hub administrator account of the organization.",
        )
    backend.__dict__["baseline_org_hub"] = _fresh_org_state(org["Id"])


def _configuration_status(state: dict[str, Any]) -> str:
    if state["ConfigurationType"] == "CENTRAL" and _fresh(state["CentralSince"]):
        return "PENDING"
    return "ENABLED"


def _describe_org_configuration(self: SecurityHubBackend) -> dict[str, Any]:
    state = _require_admin(self)
    return {
        "AutoEnable": state["AutoEnable"],
        "MemberAccountLimitReached": False,
        "AutoEnableStandards": state["AutoEnableStandards"],
        "OrganizationConfiguration": {
            "ConfigurationType": state["ConfigurationType"],
            "Status": _configuration_status(state),
        },
    }


def _update_org_configuration(
    self: SecurityHubBackend,
    auto_enable: bool,
    auto_enable_standards: str | None = None,
    organization_configuration: dict[str, Any] | None = None,
) -> None:
    state = _require_admin(self)
    wanted = (organization_configuration or {}).get("ConfigurationType") or state[
        "ConfigurationType"
    ]
    if wanted not in ("LOCAL", "CENTRAL"):
        raise _sh_error(
            "InvalidInputException",
            "The request was rejected because the ConfigurationType value must be "
            "either CENTRAL or LOCAL.",
        )
    if auto_enable_standards not in (None, "NONE", "DEFAULT"):
        raise _sh_error(
            "InvalidInputException",
            "The request was rejected because AutoEnableStandards must be either "
            "NONE or DEFAULT.",
        )
    if wanted == "CENTRAL":
        if auto_enable or auto_enable_standards == "DEFAULT":
            raise _sh_error(
                "InvalidInputException",
                "Auto Enable and AutoEnableStandards can not be enabled for Central "
                "Configuration",
            )
        if state["ConfigurationType"] != "CENTRAL":
            state["CentralSince"] = time.time()
        state.update(ConfigurationType="CENTRAL", AutoEnable=False, AutoEnableStandards="NONE")
        return
    # Back to LOCAL: every account keeps its settings and manages itself.
    state["Associations"].clear()
    state.update(ConfigurationType="LOCAL", CentralSince=None, AutoEnable=bool(auto_enable))
    if auto_enable_standards is not None:
        state["AutoEnableStandards"] = auto_enable_standards


def _org_config_view(self: SecurityHubBackend) -> dict[str, Any]:
    """moto's own _get_org_config (read by GetAdministratorAccount,
    Get/ListMembers), answered from the per-region state."""
    state = _org_state(self)
    if state is None:
        raise OrganizationsClientError(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        )
    return {
        "admin_account_id": state["Admin"],
        "auto_enable": state["AutoEnable"],
        "auto_enable_standards": state["AutoEnableStandards"],
        "configuration": {
            "ConfigurationType": state["ConfigurationType"],
            "Status": _configuration_status(state),
        },
    }


# -- central configuration: policies and associations ----------------------


def _org_backend_of(state_owner: SecurityHubBackend) -> OrganizationsBackend:
    org = _organization(state_owner.account_id)
    assert org is not None
    return organizations_backends[org["MasterAccountId"]]["aws"]


def _parent_of(orgs: OrganizationsBackend, target_id: str) -> str | None:
    try:
        parents = orgs.list_parents(ChildId=target_id)["Parents"]
    except Exception:
        return None
    return parents[0]["Id"] if parents else None


def _target_type(target_id: str) -> str:
    if target_id.startswith("r-"):
        return "ROOT"
    if target_id.startswith("ou-"):
        return "ORGANIZATIONAL_UNIT"
    return "ACCOUNT"


def _effective_association(
    state: dict[str, Any], orgs: OrganizationsBackend, target_id: str
) -> tuple[str, str]:
    """(policy id or SELF_MANAGED_SECURITY_HUB, APPLIED | INHERITED)."""
    node: str | None = target_id
    while node is not None:
        assoc = state["Associations"].get(node)
        if assoc is not None:
            return assoc["PolicyId"], "APPLIED" if node == target_id else "INHERITED"
        if _target_type(node) == "ROOT":
            break
        node = _parent_of(orgs, node)
    return _SELF_MANAGED, "INHERITED"


def _target_id(orgs: OrganizationsBackend, target: dict[str, Any]) -> str:
    given = [v for v in (target.get("AccountId"), target.get("OrganizationalUnitId"),
                         target.get("RootId")) if v]
    if len(given) != 1:
        raise _sh_error(
            "InvalidInputException",
            "Target must name exactly one of AccountId, OrganizationalUnitId or RootId.",
        )
    target_id = given[0]
    kind = _target_type(target_id)
    try:
        if kind == "ACCOUNT":
            orgs.get_account_by_id(target_id)
        elif kind == "ORGANIZATIONAL_UNIT":
            orgs.get_organizational_unit_by_id(target_id)
        else:
            orgs._get_root_by_id(target_id)
    except OrganizationsClientError:
        raise _sh_error(
            "ResourceNotFoundException",
            f"The request was rejected because {target_id} is not part of the organization.",
        )
    return target_id


def _policy_id(state: dict[str, Any], identifier: str, allow_self_managed: bool) -> str:
    if allow_self_managed and identifier == _SELF_MANAGED:
        return _SELF_MANAGED
    policy_id = identifier.rsplit("/", 1)[-1]
    if policy_id not in state["Policies"]:
        raise _sh_error(
            "ResourceNotFoundException",
            f"The request was rejected because configuration policy {identifier} "
            "was not found.",
        )
    return policy_id


def _apply_policy(account_id: str, region: str, policy: dict[str, Any]) -> None:
    """Configure one centrally managed account as the policy says."""
    hub = securityhub_backends[account_id][region]
    settings = policy["ConfigurationPolicy"].get("SecurityHub") or {}
    if not settings.get("ServiceEnabled"):
        if hub.enabled:
            hub.disable_security_hub()
        return
    if not hub.enabled:
        hub.enable_security_hub(enable_default_standards=False)
    _ext._hub_subscriptions(hub).clear()
    for arn in settings.get("EnabledStandardIdentifiers") or []:
        _ext._enable_standard(hub, arn, {})


def _apply_associations(backend: SecurityHubBackend, state: dict[str, Any]) -> None:
    """Every organization account governed by a policy gets its settings."""
    orgs = _org_backend_of(backend)
    for account in orgs.accounts:
        policy_id, _ = _effective_association(state, orgs, account.id)
        if policy_id != _SELF_MANAGED:
            _apply_policy(account.id, backend.region_name, state["Policies"][policy_id])


def _policy_summary(policy: dict[str, Any]) -> dict[str, Any]:
    settings = policy["ConfigurationPolicy"].get("SecurityHub") or {}
    return {
        "Arn": policy["Arn"],
        "Id": policy["Id"],
        "Name": policy["Name"],
        "Description": policy.get("Description", ""),
        "UpdatedAt": policy["UpdatedAt"],
        "ServiceEnabled": bool(settings.get("ServiceEnabled")),
    }


def _validate_policy_document(document: dict[str, Any]) -> None:
    settings = document.get("SecurityHub")
    if not isinstance(settings, dict) or "ServiceEnabled" not in settings:
        raise _sh_error(
            "InvalidInputException",
            "Invalid semantics: ConfigurationPolicy.SecurityHub.ServiceEnabled is required",
        )
    if settings["ServiceEnabled"] and (
        "EnabledStandardIdentifiers" not in settings
        or "SecurityControlsConfiguration" not in settings
    ):
        raise _sh_error(
            "InvalidInputException",
            "Invalid semantics: Enabled standards and security control configurations "
            "must be configured when Security Hub is enabled",
        )
    for arn in settings.get("EnabledStandardIdentifiers") or []:
        if _ext._standard_path(arn) is None:
            raise _sh_error("InvalidInputException", f"Invalid standard identifier {arn}")


def _identifier_from_path(response: SecurityHubResponse) -> str:
    uri_match = getattr(response, "uri_match", None) or {}
    if uri_match.get("Identifier"):
        return unquote(uri_match["Identifier"])
    return unquote(response.path.rstrip("/").split("/configurationPolicy/", 1)[1]).removeprefix(
        "get/"
    )


def _association_answer(
    state: dict[str, Any], orgs: OrganizationsBackend, target_id: str
) -> dict[str, Any]:
    policy_id, kind = _effective_association(state, orgs, target_id)
    assoc = state["Associations"].get(target_id) or {}
    return {
        "ConfigurationPolicyId": policy_id,
        "TargetId": target_id,
        "TargetType": _target_type(target_id),
        "AssociationType": kind,
        "UpdatedAt": assoc.get("UpdatedAt", _ext._now_iso()),
        "AssociationStatus": "SUCCESS",
    }


def _central_configuration_handlers() -> dict[str, Callable[[SecurityHubResponse], str]]:
    def create_configuration_policy(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        state = _require_central(backend)
        params = _ext._body(self)
        name = params.get("Name") or ""
        if any(p["Name"] == name for p in state["Policies"].values()):
            raise _sh_error(
                "ResourceConflictException",
                f"A configuration policy named {name} already exists.",
            )
        document = params.get("ConfigurationPolicy") or {}
        _validate_policy_document(document)
        policy_id = str(uuid.uuid4())
        now = _ext._now_iso()
        policy = {
            "Arn": f"arn:{get_partition(backend.region_name)}:securityhub:"
            f"{backend.region_name}:{backend.account_id}:configuration-policy/{policy_id}",
            "Id": policy_id,
            "Name": name,
            "Description": params.get("Description", ""),
            "UpdatedAt": now,
            "CreatedAt": now,
            "ConfigurationPolicy": document,
        }
        state["Policies"][policy_id] = policy
        return json.dumps(policy)

    def get_configuration_policy(self: SecurityHubResponse) -> str:
        state = _require_central(self.securityhub_backend)
        policy_id = _policy_id(state, _identifier_from_path(self), allow_self_managed=False)
        return json.dumps(state["Policies"][policy_id])

    def list_configuration_policies(self: SecurityHubResponse) -> str:
        state = _require_central(self.securityhub_backend)
        summaries = [_policy_summary(p) for p in state["Policies"].values()]
        return json.dumps({"ConfigurationPolicySummaries": summaries})

    def delete_configuration_policy(self: SecurityHubResponse) -> str:
        state = _require_central(self.securityhub_backend)
        policy_id = _policy_id(state, _identifier_from_path(self), allow_self_managed=False)
        if any(a["PolicyId"] == policy_id for a in state["Associations"].values()):
            raise _sh_error(
                "ResourceConflictException",
                f"Configuration policy {policy_id} is still associated with targets. "
                "Disassociate it first.",
            )
        del state["Policies"][policy_id]
        return "{}"

    def start_configuration_policy_association(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        state = _require_central(backend)
        params = _ext._body(self)
        orgs = _org_backend_of(backend)
        target_id = _target_id(orgs, params.get("Target") or {})
        policy_id = _policy_id(
            state, params.get("ConfigurationPolicyIdentifier") or "", allow_self_managed=True
        )
        state["Associations"][target_id] = {
            "PolicyId": policy_id,
            "TargetType": _target_type(target_id),
            "UpdatedAt": _ext._now_iso(),
        }
        _apply_associations(backend, state)
        return json.dumps(_association_answer(state, orgs, target_id))

    def start_configuration_policy_disassociation(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        state = _require_central(backend)
        params = _ext._body(self)
        orgs = _org_backend_of(backend)
        target_id = _target_id(orgs, params.get("Target") or {})
        policy_id = _policy_id(
            state, params.get("ConfigurationPolicyIdentifier") or "", allow_self_managed=True
        )
        assoc = state["Associations"].get(target_id)
        if assoc is None or assoc["PolicyId"] != policy_id:
            raise _sh_error(
                "ResourceNotFoundException",
                f"The request was rejected because {target_id} is not associated with "
                f"{params.get('ConfigurationPolicyIdentifier')}.",
            )
        del state["Associations"][target_id]
        # The target now inherits from its parent, or keeps its settings and
        # manages itself.
        _apply_associations(backend, state)
        return "{}"

    def get_configuration_policy_association(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        state = _require_central(backend)
        orgs = _org_backend_of(backend)
        target_id = _target_id(orgs, _ext._body(self).get("Target") or {})
        return json.dumps(_association_answer(state, orgs, target_id))

    return {
        "create_configuration_policy": create_configuration_policy,
        "get_configuration_policy": get_configuration_policy,
        "list_configuration_policies": list_configuration_policies,
        "delete_configuration_policy": delete_configuration_policy,
        "start_configuration_policy_association": start_configuration_policy_association,
        "start_configuration_policy_disassociation": start_configuration_policy_disassociation,
        "get_configuration_policy_association": get_configuration_policy_association,
    }


def _refuse_if_centrally_managed(backend: SecurityHubBackend) -> None:
    """A centrally managed account cannot change its own configuration."""
    state = _org_state(backend)
    if state is None or state["ConfigurationType"] != "CENTRAL":
        return
    if backend.account_id == state["Admin"]:
        return
    orgs = _org_backend_of(backend)
    policy_id, _ = _effective_association(state, orgs, backend.account_id)
    if policy_id != _SELF_MANAGED:
        raise _sh_error(
            "AccessDeniedException",
            f"Account {backend.account_id} is centrally managed by the Security Hub "
            f"administrator account {state['Admin']} (configuration policy {policy_id}); "
            "only the administrator can change its configuration.",
        )


def _patch_securityhub_organization() -> None:
    """Per-region organization admin and configuration; central configuration."""

    def enable_organization_admin_account(self: SecurityHubResponse) -> str:
        _enable_admin(self.securityhub_backend, _ext._body(self).get("AdminAccountId") or "")
        return "{}"

    def disable_organization_admin_account(self: SecurityHubResponse) -> str:
        _disable_admin(self.securityhub_backend, _ext._body(self).get("AdminAccountId") or "")
        return "{}"

    def list_organization_admin_accounts(self: SecurityHubResponse) -> str:
        backend = self.securityhub_backend
        org = _require_management(backend, "InvalidAccessException")
        state = _org_state_for(backend.account_id, org["Id"], backend.region_name)
        admins = [{"AccountId": state["Admin"], "Status": "ENABLED"}] if state["Admin"] else []
        return json.dumps({"AdminAccounts": admins})

    SecurityHubBackend._get_org_config = _org_config_view
    SecurityHubBackend.describe_organization_configuration = _describe_org_configuration
    SecurityHubBackend.update_organization_configuration = _update_org_configuration
    SecurityHubResponse.enable_organization_admin_account = enable_organization_admin_account
    SecurityHubResponse.disable_organization_admin_account = disable_organization_admin_account
    SecurityHubResponse.list_organization_admin_accounts = list_organization_admin_accounts
    for name, handler in _central_configuration_handlers().items():
        setattr(SecurityHubResponse, name, handler)

    for name in ("enable_security_hub", "disable_security_hub",
                 "batch_enable_standards", "batch_disable_standards"):
        original = getattr(SecurityHubResponse, name)

        def guarded(self: SecurityHubResponse, _original: Any = original) -> Any:
            _refuse_if_centrally_managed(self.securityhub_backend)
            return _original(self)

        setattr(SecurityHubResponse, name, guarded)

    for path in (
        "organization/admin",
        "organization/admin/disable",
        "configurationPolicy/create",
        "configurationPolicy/list",
        "configurationPolicy/get/(?P<Identifier>.+)",
        "configurationPolicy/(?P<Identifier>.+)",
        "configurationPolicyAssociation/associate",
        "configurationPolicyAssociation/disassociate",
        "configurationPolicyAssociation/get",
    ):
        securityhub_urls.url_paths["{0}/" + path + "$"] = SecurityHubResponse.dispatch


def apply() -> None:
    """Apply this module's patches (called once by baseline_moto_ext.apply)."""
    global _APPLIED, _ext
    if _APPLIED:
        return
    import baseline_moto_ext

    _ext = baseline_moto_ext
    _patch_org_policy_types()
    _patch_kms_settling()
    _patch_iam_role_created_at()
    _patch_config_role_settling()
    _patch_backup_selection_role()
    _patch_iam_aws_managed_policies()
    _patch_securityhub_organization()
    _APPLIED = True
