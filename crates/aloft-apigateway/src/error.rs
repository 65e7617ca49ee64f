//! API Gateway's error codes, mapped to their HTTP status in one place.

use aloft_core::AwsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BadRequestException,
    ConflictException,
    LimitExceededException,
    NotFoundException,
    TooManyRequestsException,
    UnauthorizedException,
}

impl Code {
    fn status(self) -> u16 {
        match self {
            Code::BadRequestException => 400,
            Code::ConflictException => 409,
            Code::LimitExceededException | Code::TooManyRequestsException => 429,
            Code::NotFoundException => 404,
            Code::UnauthorizedException => 401,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Code::BadRequestException => "BadRequestException",
            Code::ConflictException => "ConflictException",
            Code::LimitExceededException => "LimitExceededException",
            Code::NotFoundException => "NotFoundException",
            Code::TooManyRequestsException => "TooManyRequestsException",
            Code::UnauthorizedException => "UnauthorizedException",
        }
    }
}

pub type Result<T> = std::result::Result<T, AwsError>;

pub fn err(code: Code, message: impl Into<String>) -> AwsError {
    AwsError::new(code.name(), code.status(), message.into())
}

pub fn not_found(message: impl Into<String>) -> AwsError {
    err(Code::NotFoundException, message)
}

pub fn bad_request(message: impl Into<String>) -> AwsError {
    err(Code::BadRequestException, message)
}
