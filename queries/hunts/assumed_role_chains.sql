-- title: Assumed-role chains
-- description: Who assumed which role, and role sessions assuming further roles (role chaining).
SELECT a.event_time,
       coalesce(a.user_identity_user_name, a.user_identity_session_issuer_user_name, a.actor) AS caller,
       a.user_identity_type AS caller_type,
       json_str(a.request_parameters, 'roleArn') AS assumed_role,
       json_str(a.request_parameters, 'roleSessionName') AS session_name,
       a.user_identity_type = 'AssumedRole' AS chained,
       a.src_ip, a.error_code
FROM cloudtrail a
WHERE a.event_source = 'sts.amazonaws.com'
  AND a.event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
ORDER BY a.event_time
