//! Cognito user pools' error codes, the only codes this crate returns.

use aloft_core::AwsError;

macro_rules! codes {
    ($($name:ident = $status:literal),* $(,)?) => {
        /// An error code of the `cognito-idp` model.
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
    AliasExistsException = 400,
    CodeMismatchException = 400,
    ConcurrentModificationException = 400,
    EnableSoftwareTokenMFAException = 400,
    ExpiredCodeException = 400,
    GroupExistsException = 400,
    InternalErrorException = 500,
    InvalidLambdaResponseException = 400,
    InvalidOAuthFlowException = 400,
    InvalidParameterException = 400,
    InvalidPasswordException = 400,
    InvalidUserPoolConfigurationException = 400,
    LimitExceededException = 400,
    MFAMethodNotFoundException = 400,
    NotAuthorizedException = 400,
    PasswordHistoryPolicyViolationException = 400,
    PasswordResetRequiredException = 400,
    ResourceNotFoundException = 400,
    ScopeDoesNotExistException = 400,
    SerializationException = 400,
    SoftwareTokenMFANotFoundException = 400,
    TooManyFailedAttemptsException = 400,
    TooManyRequestsException = 400,
    UnexpectedLambdaException = 400,
    UnknownOperationException = 400,
    UnsupportedOperationException = 400,
    UnsupportedTokenTypeException = 400,
    UserLambdaValidationException = 400,
    UserNotConfirmedException = 400,
    UserNotFoundException = 400,
    UsernameExistsException = 400,
}

impl Code {
    pub fn msg(self, message: impl Into<String>) -> AwsError {
        AwsError::new(self.name(), self.status(), message)
    }
}

pub type Result<T> = std::result::Result<T, AwsError>;

pub fn pool_not_found(pool_id: &str) -> AwsError {
    Code::ResourceNotFoundException.msg(format!("User pool {pool_id} does not exist."))
}

pub fn client_not_found(client_id: &str) -> AwsError {
    Code::ResourceNotFoundException.msg(format!("User pool client {client_id} does not exist."))
}

pub fn user_not_found() -> AwsError {
    Code::UserNotFoundException.msg("User does not exist.")
}

/// Sign-in failures look the same whether or not the user exists (PreventUserExistenceErrors).
pub fn bad_credentials() -> AwsError {
    Code::NotAuthorizedException.msg("Incorrect username or password.")
}

pub fn invalid_token() -> AwsError {
    Code::NotAuthorizedException.msg("Invalid Access Token")
}

pub fn invalid(message: impl Into<String>) -> AwsError {
    Code::InvalidParameterException.msg(message)
}
