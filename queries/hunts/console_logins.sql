-- title: Console sign-ins by address and user agent
-- description: Console sign-ins grouped by user, source address and browser, with failures and MFA use.
SELECT coalesce(user_identity_user_name, user_identity_type) AS user_name,
       src_ip, user_agent,
       count(*) AS attempts,
       count(CASE WHEN outcome = 'failure' THEN 1 END) AS failures,
       count(CASE WHEN json_str(additional_event_data, 'MFAUsed') = 'Yes' THEN 1 END) AS with_mfa,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen
FROM cloudtrail
WHERE event_name = 'ConsoleLogin'
GROUP BY 1, 2, 3
ORDER BY failures DESC, attempts DESC
