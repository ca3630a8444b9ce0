-- title: New IAM principals and credentials
-- description: Users, roles, access keys and console passwords created, and by whom.
SELECT event_time, event_name,
       coalesce(json_str(request_parameters, 'userName'), json_str(request_parameters, 'roleName')) AS principal,
       json_str(response_elements, 'accessKey', 'accessKeyId') AS new_access_key,
       coalesce(user_identity_user_name, actor) AS created_by, src_ip, error_code
FROM cloudtrail
WHERE event_source = 'iam.amazonaws.com'
  AND event_name IN ('CreateUser', 'CreateRole', 'CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile', 'CreateServiceLinkedRole')
ORDER BY event_time
