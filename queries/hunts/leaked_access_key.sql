-- title: Activity of an access key
-- description: Everything done with one access key id (a key found in a leak or a repository), from where and with what tools.
-- param: key = ASIABOBCONSOLE : the access key id
SELECT event_time, event_source, event_name, error_code, src_ip, user_agent, actor, region
FROM cloudtrail
WHERE user_identity_access_key_id = ${key}
ORDER BY event_time
