//! Who and where: the account, its principals, client addresses, user agents,
//! API routes and Lambda functions the generated traffic is made of.

/// The account the logs belong to.
pub const ACCOUNT: &str = "111122223333";
pub const REGIONS: [(&str, u32); 3] = [("us-east-1", 85), ("eu-west-1", 10), ("us-west-2", 5)];

/// A principal: how it appears in `userIdentity`, and how often it acts.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: &'static str,
    pub weight: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An application or CI role, through AssumeRole.
    Role,
    /// A person with an IAM user (console and CLI).
    User,
}

pub const PRINCIPALS: [Principal; 10] = [
    Principal {
        kind: PrincipalKind::Role,
        name: "orders-api-lambda",
        weight: 30,
    },
    Principal {
        kind: PrincipalKind::Role,
        name: "payments-api-lambda",
        weight: 20,
    },
    Principal {
        kind: PrincipalKind::Role,
        name: "search-indexer",
        weight: 12,
    },
    Principal {
        kind: PrincipalKind::Role,
        name: "data-pipeline",
        weight: 10,
    },
    Principal {
        kind: PrincipalKind::Role,
        name: "github-actions-deploy",
        weight: 6,
    },
    Principal {
        kind: PrincipalKind::Role,
        name: "AWSServiceRoleForConfig",
        weight: 8,
    },
    Principal {
        kind: PrincipalKind::User,
        name: "alice",
        weight: 5,
    },
    Principal {
        kind: PrincipalKind::User,
        name: "bob",
        weight: 4,
    },
    Principal {
        kind: PrincipalKind::User,
        name: "carol",
        weight: 3,
    },
    Principal {
        kind: PrincipalKind::User,
        name: "dave",
        weight: 2,
    },
];

/// People's console users, for logins (also the targets of password sprays).
pub const CONSOLE_USERS: [&str; 14] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy",
];

/// SDK and tool user agents by principal kind.
pub const ROLE_AGENTS: [&str; 4] = [
    "aws-sdk-rust/1.3.9 os/linux lang/rust/1.82.0",
    "Boto3/1.35.40 md/Botocore#1.35.40 ua/2.0 os/linux#5.10.226 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12",
    "aws-sdk-go-v2/1.32.2 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64",
    "aws-sdk-java/2.28.16 Linux/5.10.226 OpenJDK_64-Bit_Server_VM/21.0.4+7-LTS Java/21.0.4 vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java21",
];
pub const USER_AGENTS: [&str; 3] = [
    "aws-cli/2.18.7 md/awscrt#0.22.0 ua/2.0 os/macos#24.0.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.ls",
    "AWS Internal",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
];

/// Office and VPN addresses people work from.
pub fn office_ip(i: usize) -> String {
    format!("198.51.100.{}", 10 + i % 20)
}

/// The address of the n-th API client (a long tail: few heavy, many light).
pub fn client_ip(n: u32) -> String {
    format!("192.0.{}.{}", 2 + n / 250, 1 + n % 250)
}

/// Attackers come from a range no background client uses.
pub fn attacker_ip(n: u32) -> String {
    format!("203.0.113.{}", 1 + n % 250)
}

/// API routes: (api id, stage, method, resource path, weight, p(4xx), p(5xx)).
pub struct Route {
    pub api: &'static str,
    pub method: &'static str,
    pub resource: &'static str,
    pub weight: u32,
    pub client_error: f64,
    pub server_error: f64,
}

/// A `static`, not a `const`: scenarios tell routes apart by address, and
/// each use of a `const` may be a copy of its own.
pub static ROUTES: [Route; 9] = [
    Route {
        api: "a1b2c3d4e5",
        method: "GET",
        resource: "/orders",
        weight: 25,
        client_error: 0.01,
        server_error: 0.001,
    },
    Route {
        api: "a1b2c3d4e5",
        method: "GET",
        resource: "/orders/{id}",
        weight: 20,
        client_error: 0.02,
        server_error: 0.001,
    },
    Route {
        api: "a1b2c3d4e5",
        method: "POST",
        resource: "/orders",
        weight: 8,
        client_error: 0.02,
        server_error: 0.002,
    },
    Route {
        api: "a1b2c3d4e5",
        method: "GET",
        resource: "/search",
        weight: 18,
        client_error: 0.005,
        server_error: 0.001,
    },
    Route {
        api: "a1b2c3d4e5",
        method: "POST",
        resource: "/login",
        weight: 5,
        client_error: 0.01,
        server_error: 0.0,
    },
    Route {
        api: "a1b2c3d4e5",
        method: "GET",
        resource: "/health",
        weight: 6,
        client_error: 0.0,
        server_error: 0.0,
    },
    Route {
        api: "f6g7h8i9j0",
        method: "POST",
        resource: "/payments",
        weight: 7,
        client_error: 0.01,
        server_error: 0.001,
    },
    Route {
        api: "f6g7h8i9j0",
        method: "GET",
        resource: "/payments/{id}",
        weight: 6,
        client_error: 0.01,
        server_error: 0.001,
    },
    Route {
        api: "f6g7h8i9j0",
        method: "POST",
        resource: "/refunds",
        weight: 5,
        client_error: 0.02,
        server_error: 0.001,
    },
];

/// Browser and app user agents of API clients.
pub const CLIENT_AGENTS: [&str; 5] = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "okhttp/4.12.0",
    "AcmeShop/3.4.1 (Android 14; Pixel 8)",
    "python-requests/2.32.3",
];

/// Lambda functions: (name, log format, typical duration ms, memory MB).
pub struct Function {
    pub name: &'static str,
    pub json_logs: bool,
    pub duration_ms: (f64, f64),
    pub memory_mb: u32,
    pub weight: u32,
}

pub const FUNCTIONS: [Function; 4] = [
    Function {
        name: "orders-api",
        json_logs: false,
        duration_ms: (20.0, 60.0),
        memory_mb: 512,
        weight: 45,
    },
    Function {
        name: "payments-api",
        json_logs: true,
        duration_ms: (40.0, 90.0),
        memory_mb: 1024,
        weight: 25,
    },
    Function {
        name: "search-indexer",
        json_logs: false,
        duration_ms: (150.0, 300.0),
        memory_mb: 1769,
        weight: 20,
    },
    Function {
        name: "thumbnailer",
        json_logs: true,
        duration_ms: (300.0, 600.0),
        memory_mb: 2048,
        weight: 10,
    },
];

/// Picks an index by weight.
pub fn weighted<T>(rng: &mut fastrand::Rng, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
    let total: u32 = items.iter().map(&weight).sum();
    let mut x = rng.u32(0..total);
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len() - 1
}

/// A UUID-shaped id from the generator (deterministic for the seed).
pub fn uuid(rng: &mut fastrand::Rng) -> String {
    let a = rng.u64(..);
    let b = rng.u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}
