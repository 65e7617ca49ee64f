//! Schedule expressions for rules: `rate(N unit)` and six-field `cron(...)`, evaluated in
//! UTC as EventBridge rules are (the parser and evaluator are shared with Scheduler).

pub use aloft_cron::{Schedule, parse};
