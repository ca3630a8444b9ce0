-- title: Denied calls by principal
-- description: Who gets AccessDenied / UnauthorizedOperation, how often, on how many actions: stolen credentials probe.
-- param: min_denied = 1 : leave out principals with fewer denials
SELECT coalesce(user_identity_user_name, user_identity_session_issuer_user_name, actor) AS principal,
       count(*) AS denied,
       count(DISTINCT event_name) AS actions,
       count(DISTINCT src_ip) AS addresses,
       min(event_time) AS first_denied,
       max(event_time) AS last_denied,
       array_to_string(array_agg(DISTINCT event_source || ':' || event_name), ', ') AS what
FROM cloudtrail
WHERE error_code IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation', 'UnauthorizedAccess')
GROUP BY 1
HAVING count(*) >= ${min_denied}
ORDER BY denied DESC
