//! CloudTrail records as OCSF API Activity, Authentication and Account Change:
//! the class selection of Security Lake and of the OCSF project's CloudTrail
//! mappings (sign-in and STS credentials are authentications, IAM principal
//! mutations account changes, every other call an API activity).

use super::{metadata, unmapped, EventClass, CLOUD};

/// STS calls that issue credentials: Authentication, "Authentication Ticket".
const STS_AUTHENTICATIONS: [&str; 6] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "AssumeRoot",
    "GetFederationToken",
    "GetSessionToken",
];

/// Sign-in events and the Authentication activity each is.
const SIGNIN_ACTIVITIES: [(&str, i32); 5] = [
    ("ConsoleLogin", 1),
    ("SwitchRole", 1),
    ("ExitRole", 2),
    ("GetSigninToken", 3),
    ("RenewRole", 5),
];

/// IAM calls that change a user, role or group, and the Account Change
/// activity each is.
const ACCOUNT_CHANGES: [(&str, i32); 36] = [
    ("CreateUser", 1),
    ("CreateRole", 1),
    ("CreateGroup", 1),
    ("CreateLoginProfile", 1),
    ("CreateServiceLinkedRole", 1),
    ("ChangePassword", 3),
    ("UpdateLoginProfile", 4),
    ("DeleteUser", 6),
    ("DeleteRole", 6),
    ("DeleteGroup", 6),
    ("DeleteLoginProfile", 6),
    ("DeleteServiceLinkedRole", 6),
    ("AttachUserPolicy", 7),
    ("AttachRolePolicy", 7),
    ("AttachGroupPolicy", 7),
    ("PutUserPolicy", 7),
    ("PutRolePolicy", 7),
    ("PutGroupPolicy", 7),
    ("PutUserPermissionsBoundary", 7),
    ("PutRolePermissionsBoundary", 7),
    ("AddUserToGroup", 7),
    ("DetachUserPolicy", 8),
    ("DetachRolePolicy", 8),
    ("DetachGroupPolicy", 8),
    ("DeleteUserPolicy", 8),
    ("DeleteRolePolicy", 8),
    ("DeleteGroupPolicy", 8),
    ("DeleteUserPermissionsBoundary", 8),
    ("DeleteRolePermissionsBoundary", 8),
    ("RemoveUserFromGroup", 8),
    ("EnableMFADevice", 10),
    ("CreateVirtualMFADevice", 10),
    ("ResyncMFADevice", 10),
    ("DeactivateMFADevice", 11),
    ("DeleteVirtualMFADevice", 11),
    ("UpdateAssumeRolePolicy", 99),
];

fn quoted(names: impl IntoIterator<Item = &'static str>) -> String {
    names
        .into_iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn case_of(pairs: &[(&str, i32)], otherwise: i32) -> String {
    let mut case = String::from("CASE event_name");
    for (name, id) in pairs {
        case.push_str(&format!(" WHEN '{name}' THEN {id}"));
    }
    case.push_str(&format!(" ELSE {otherwise} END"));
    case
}

fn is_authentication() -> String {
    format!(
        "(event_source = 'signin.amazonaws.com' OR (event_source = 'sts.amazonaws.com' AND event_name IN ({})))",
        quoted(STS_AUTHENTICATIONS)
    )
}

fn is_account_change() -> String {
    format!(
        "(event_source = 'iam.amazonaws.com' AND event_name IN ({}))",
        quoted(ACCOUNT_CHANGES.iter().map(|(n, _)| *n))
    )
}

/// The records the class is responsible for.
pub(super) fn scope(class: EventClass) -> String {
    match class {
        EventClass::Authentication => format!("coalesce({}, false)", is_authentication()),
        EventClass::AccountChange => format!("coalesce({}, false)", is_account_change()),
        _ => format!(
            "NOT coalesce({}, false) AND NOT coalesce({}, false)",
            is_authentication(),
            is_account_change()
        ),
    }
}

/// The `SELECT` (without the envelope) mapping CloudTrail records to `class`.
pub(super) fn select(class: EventClass) -> String {
    let (activity, columns) = match class {
        EventClass::Authentication => (authentication_activity(), authentication_columns()),
        EventClass::AccountChange => (case_of(&ACCOUNT_CHANGES, 99), account_change_columns()),
        _ => (api_activity(), String::new()),
    };
    let status_failed = match class {
        // A failed console sign-in has no errorCode: its response says so.
        EventClass::Authentication => {
            "(error_code IS NOT NULL OR json_get_str(response_elements, 'ConsoleLogin') = 'Failure')"
        }
        _ => "(error_code IS NOT NULL)",
    };
    let metadata = metadata(
        &["cloud"],
        "CloudTrail",
        "event_version",
        "'uid', event_id, 'event_code', event_type, 'log_name', event_category, \
         'correlation_uid', shared_event_id",
    );
    format!(
        "SELECT {activity} AS activity_id, \
           CAST(event_time AS BIGINT) AS time, \
           1 AS severity_id, 'Informational' AS severity, \
           CASE WHEN {status_failed} THEN 2 ELSE 1 END AS status_id, \
           CASE WHEN {status_failed} THEN 'Failure' ELSE 'Success' END AS status, \
           error_code AS status_code, error_message AS status_detail, \
           {metadata}, {CLOUD}, {ACTOR}, {SRC_ENDPOINT}, {API}, \
           CASE WHEN user_agent IS NOT NULL THEN named_struct('user_agent', user_agent) END AS http_request, \
           {columns} \
           {unmapped}, raw AS raw_data \
         FROM ({records}) AS cloudtrail WHERE {scope} AND event_name IS NOT NULL",
        records = records(),
        scope = scope(class),
        unmapped = unmapped(&UNMAPPED),
    )
}

/// Identity fields CloudTrail logs as empty strings when it has no value
/// (a failed console sign-in's `principalId` and `accessKeyId`).
const EMPTY_WHEN_UNKNOWN: [&str; 5] = [
    "user_identity_principal_id",
    "user_identity_access_key_id",
    "user_identity_arn",
    "user_identity_user_name",
    "user_identity_account_id",
];

/// The CloudTrail table with those empty strings as NULLs.
fn records() -> String {
    let replaced: Vec<String> = EMPTY_WHEN_UNKNOWN
        .iter()
        .map(|c| format!("nullif({c}, '') AS {c}"))
        .collect();
    format!(
        "SELECT * EXCLUDE ({}), {} FROM cloudtrail",
        EMPTY_WHEN_UNKNOWN.join(", "),
        replaced.join(", ")
    )
}

/// API Activity's Create / Read / Update / Delete, from the call's name
/// (and CloudTrail's `readOnly`).
fn api_activity() -> String {
    "CASE WHEN read_only OR regexp_like(event_name, '^(Get|Describe|List|Lookup|Search|Head|BatchGet|Query|Scan|Select|Download|Filter|Check|Verify|Estimate|Preview|Simulate|Test)') THEN 2 \
          WHEN regexp_like(event_name, '^(Create|Run|Allocate|Import|Issue|Register|Request|Generate|Launch|Provision|Purchase|Subscribe|Copy|Clone|Publish|Send|Upload|Invoke)') THEN 1 \
          WHEN regexp_like(event_name, '^(Delete|Remove|Terminate|Deregister|Release|Revoke|Destroy|Purge|Unsubscribe|Deactivate|Abort)') THEN 4 \
          WHEN regexp_like(event_name, '^(Update|Put|Modify|Set|Attach|Detach|Enable|Disable|Associate|Disassociate|Change|Reset|Tag|Untag|Stop|Start|Reboot|Restore|Replace|Authorize|Add|Apply|Assign|Unassign|Cancel|Accept|Reject|Rotate|Edit|Move|Rename|Activate|Import|Renew|Resume|Suspend)') THEN 3 \
          ELSE 99 END".to_string()
}

fn authentication_activity() -> String {
    format!(
        "CASE WHEN event_source = 'sts.amazonaws.com' THEN 3 ELSE {} END",
        case_of(&SIGNIN_ACTIVITIES, 99)
    )
}

/// `actor`: who made the call, from `userIdentity` (every identity type:
/// a service that acted alone is the invoker; an Insight, CloudTrail).
const ACTOR: &str = "named_struct( \
    'user', CASE WHEN coalesce(user_identity_arn, user_identity_principal_id, user_identity_user_name, user_identity_account_id) IS NOT NULL THEN named_struct( \
        'uid', coalesce(user_identity_arn, user_identity_principal_id), \
        'uid_alt', CASE WHEN user_identity_arn IS NOT NULL THEN user_identity_principal_id END, \
        'name', coalesce(user_identity_user_name, user_identity_session_issuer_user_name), \
        'type', user_identity_type, \
        'credential_uid', user_identity_access_key_id, \
        'account', CASE WHEN user_identity_account_id IS NOT NULL THEN named_struct('uid', user_identity_account_id, 'type', 'AWS Account', 'type_id', 10) END) END, \
    'session', CASE WHEN coalesce(user_identity_session_issuer_arn, CAST(user_identity_session_created AS VARCHAR), CAST(user_identity_mfa_authenticated AS VARCHAR)) IS NOT NULL THEN named_struct( \
        'created_time', CAST(user_identity_session_created AS BIGINT), \
        'is_mfa', user_identity_mfa_authenticated, \
        'issuer', user_identity_session_issuer_arn, \
        'credential_uid', user_identity_access_key_id) END, \
    'invoked_by', coalesce(user_identity_invoked_by, \
        CASE WHEN coalesce(user_identity_arn, user_identity_principal_id, user_identity_user_name, user_identity_account_id, user_identity_session_issuer_arn) IS NULL \
             THEN CASE WHEN event_type = 'AwsCloudTrailInsight' THEN 'cloudtrail.amazonaws.com' ELSE event_source END END), \
    'idp', CASE WHEN user_identity_identity_provider IS NOT NULL THEN named_struct('name', user_identity_identity_provider) END \
    ) AS actor";

/// `src_endpoint`: the caller's address; a service calling on someone's
/// behalf (`sourceIPAddress` = `lambda.amazonaws.com`) is its domain and
/// service name; the VPC endpoint the call came through, its uid.
const SRC_ENDPOINT: &str = "named_struct( \
    'ip', ip_address(src_ip), \
    'domain', CASE WHEN ip_address(src_ip) IS NULL AND src_ip LIKE '%.%' THEN src_ip END, \
    'svc_name', CASE WHEN ip_address(src_ip) IS NULL THEN coalesce(src_ip, user_identity_invoked_by, event_source) END, \
    'uid', vpc_endpoint_id) AS src_endpoint";

/// `api`: the operation, the service and the request id.
const API: &str = "named_struct('operation', event_name, 'version', api_version, \
    'service', named_struct('name', event_source), \
    'request', CASE WHEN request_id IS NOT NULL THEN named_struct('uid', request_id) END, \
    'response', CASE WHEN error_code IS NOT NULL THEN named_struct('error', error_code, 'error_message', error_message) END) AS api";

/// What has no OCSF home, as CloudTrail names it (objects as JSON text).
const UNMAPPED: [(&str, &str); 14] = [
    ("recipientAccountId", "recipient_account_id"),
    ("managementEvent", "management_event"),
    ("readOnly", "read_only"),
    ("requestParameters", "request_parameters"),
    ("responseElements", "response_elements"),
    ("additionalEventData", "additional_event_data"),
    ("resources", "resources"),
    ("serviceEventDetails", "service_event_details"),
    ("insightDetails", "insight_details"),
    (
        "sessionCredentialFromConsole",
        "session_credential_from_console",
    ),
    (
        "userIdentity.sessionContext.sourceIdentity",
        "user_identity_source_identity",
    ),
    ("tlsDetails.tlsVersion", "tls_version"),
    ("tlsDetails.cipherSuite", "tls_cipher_suite"),
    (
        "tlsDetails.clientProvidedHostHeader",
        "tls_client_provided_host_header",
    ),
];

/// Authentication's own columns: the user authenticated (the role or
/// federated user an STS call issued credentials for, else the caller),
/// the service, MFA and the protocol.
fn authentication_columns() -> String {
    "named_struct( \
        'uid', coalesce(json_get_str(response_elements, 'assumedRoleUser', 'arn'), json_get_str(response_elements, 'federatedUser', 'arn'), \
                        json_get_str(request_parameters, 'roleArn'), user_identity_arn, user_identity_principal_id), \
        'name', coalesce(json_get_str(request_parameters, 'roleSessionName'), json_get_str(request_parameters, 'name'), \
                         user_identity_user_name, user_identity_session_issuer_user_name), \
        'type', CAST(CASE WHEN event_name LIKE 'AssumeRole%' THEN 'AssumedRole' WHEN event_name = 'GetFederationToken' THEN 'FederatedUser' \
                          ELSE user_identity_type END AS VARCHAR), \
        'account', CASE WHEN coalesce(user_identity_account_id, account_id) IS NOT NULL THEN \
            named_struct('uid', coalesce(user_identity_account_id, account_id), 'type', 'AWS Account', 'type_id', 10) END \
      ) AS user, \
      named_struct('name', event_source) AS service, \
      CASE WHEN event_name = 'ConsoleLogin' THEN json_get_str(additional_event_data, 'MFAUsed') = 'Yes' \
           ELSE user_identity_mfa_authenticated END AS is_mfa, \
      CASE event_name WHEN 'AssumeRoleWithSAML' THEN 5 WHEN 'AssumeRoleWithWebIdentity' THEN 4 END AS auth_protocol_id, \
      CASE event_name WHEN 'AssumeRoleWithSAML' THEN 'SAML' WHEN 'AssumeRoleWithWebIdentity' THEN 'OpenID' END AS auth_protocol,"
        .to_string()
}

/// Account Change's own columns: the user, role or group changed (the
/// caller when the call names none, as `ChangePassword` does) and the
/// policy attached or detached.
fn account_change_columns() -> String {
    "named_struct( \
        'uid', coalesce(json_get_str(response_elements, 'user', 'arn'), json_get_str(response_elements, 'role', 'arn'), \
                        json_get_str(response_elements, 'group', 'arn'), \
                        CASE WHEN json_get_str(request_parameters, 'userName') IS NULL AND json_get_str(request_parameters, 'roleName') IS NULL \
                              AND json_get_str(request_parameters, 'groupName') IS NULL THEN user_identity_arn END), \
        'name', coalesce(json_get_str(request_parameters, 'userName'), json_get_str(request_parameters, 'roleName'), \
                         json_get_str(request_parameters, 'groupName'), user_identity_user_name), \
        'type', CAST(CASE WHEN json_get_str(request_parameters, 'userName') IS NOT NULL THEN 'IAMUser' \
                          WHEN json_get_str(request_parameters, 'roleName') IS NOT NULL THEN 'Role' \
                          WHEN json_get_str(request_parameters, 'groupName') IS NOT NULL THEN 'Group' \
                          ELSE user_identity_type END AS VARCHAR), \
        'account', CASE WHEN coalesce(recipient_account_id, account_id) IS NOT NULL THEN \
            named_struct('uid', coalesce(recipient_account_id, account_id), 'type', 'AWS Account', 'type_id', 10) END \
      ) AS user, \
      CASE WHEN coalesce(json_get_str(request_parameters, 'policyArn'), json_get_str(request_parameters, 'policyName'), json_get_str(request_parameters, 'permissionsBoundary')) IS NOT NULL \
           THEN named_struct('uid', coalesce(json_get_str(request_parameters, 'policyArn'), json_get_str(request_parameters, 'permissionsBoundary')), \
                             'name', json_get_str(request_parameters, 'policyName')) END AS policy,"
        .to_string()
}
