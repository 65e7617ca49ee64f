//! IAM's and STS's error codes (model shape names; the query codec writes their wire codes).

use aloft_core::AwsError;

macro_rules! codes {
    ($($name:ident = $status:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($name),* }
        impl Code {
            pub fn name(self) -> &'static str {
                match self { $(Code::$name => stringify!($name)),* }
            }
            fn status(self) -> u16 {
                match self { $(Code::$name => $status),* }
            }
        }
    };
}

codes! {
    NoSuchEntityException = 404,
    EntityAlreadyExistsException = 409,
    DeleteConflictException = 409,
    MalformedPolicyDocumentException = 400,
    InvalidInputException = 400,
    LimitExceededException = 409,
    ValidationError = 400,
    AccessDenied = 403,
    ExpiredTokenException = 400,
    InvalidIdentityTokenException = 400,
    InvalidAction = 400,
    InvalidAuthorizationMessageException = 400,
}

impl Code {
    pub fn msg(self, message: impl Into<String>) -> AwsError {
        AwsError::new(self.name(), self.status(), message)
    }
}

pub type Result<T> = std::result::Result<T, AwsError>;

pub fn no_such(kind: &str, name: &str) -> AwsError {
    Code::NoSuchEntityException.msg(format!("The {kind} with name {name} cannot be found."))
}
