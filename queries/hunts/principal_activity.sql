-- title: Everything a principal did
-- description: The AWS API calls of one principal (user name, role session or any part of the ARN), in time order, with errors.
-- param: principal = bob : a user name, role or session name, or ARN fragment
SELECT event_time, event_source, event_name, error_code, src_ip, user_agent, actor,
       json_str(request_parameters, 'userName') AS target_user
FROM cloudtrail
WHERE actor LIKE '%' || ${principal} || '%'
   OR user_identity_user_name = ${principal}
ORDER BY event_time
