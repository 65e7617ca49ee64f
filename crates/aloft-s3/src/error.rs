//! S3's error codes, their HTTP statuses and AWS's messages, in one place.

use aloft_core::AwsError;

/// The S3 error codes Aloft answers with. Variant names are AWS's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Error {
    AccessDenied,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    CORSResponse,
    EntityTooLarge,
    EntityTooSmall,
    IllegalLocationConstraintException,
    IllegalVersioningConfigurationException,
    IncompleteBody,
    InvalidArgument,
    InvalidBucketName,
    InvalidDigest,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPartNumber,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    InvalidStorageClass,
    InvalidTag,
    KeyTooLongError,
    MalformedPOSTRequest,
    MalformedXML,
    MethodNotAllowed,
    MissingContentLength,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchConfiguration,
    ObjectLockConfigurationNotFoundError,
    ReplicationConfigurationNotFoundError,
    NoSuchKey,
    NoSuchLifecycleConfiguration,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchTagSet,
    NoSuchUpload,
    NoSuchVersion,
    NoSuchWebsiteConfiguration,
    NotImplemented,
    OwnershipControlsNotFoundError,
    PreconditionFailed,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
    InternalError,
    // Storage classes, restores and ACL grants.
    InvalidObjectState,
    RestoreAlreadyInProgress,
    MalformedACLError,
    UnresolvableGrantByEmailAddress,
    AccessControlListNotSupported,
    InvalidBucketAclWithObjectOwnership,
    UnexpectedContent,
    // S3 Control (access points) and S3 Object Lambda.
    NoSuchAccessPoint,
    AccessPointAlreadyOwnedByYou,
    LambdaResponseNotReceived,
    LambdaRuntimeError,
}

impl S3Error {
    pub fn code(self) -> &'static str {
        use S3Error::*;
        match self {
            NoSuchAccessPoint => "NoSuchAccessPoint",
            AccessPointAlreadyOwnedByYou => "AccessPointAlreadyOwnedByYou",
            LambdaResponseNotReceived => "LambdaResponseNotReceived",
            LambdaRuntimeError => "LambdaRuntimeError",
            AccessDenied => "AccessDenied",
            BadDigest => "BadDigest",
            BucketAlreadyExists => "BucketAlreadyExists",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            BucketNotEmpty => "BucketNotEmpty",
            CORSResponse => "CORSResponse",
            EntityTooLarge => "EntityTooLarge",
            EntityTooSmall => "EntityTooSmall",
            IllegalLocationConstraintException => "IllegalLocationConstraintException",
            IllegalVersioningConfigurationException => "IllegalVersioningConfigurationException",
            IncompleteBody => "IncompleteBody",
            InvalidArgument => "InvalidArgument",
            InvalidBucketName => "InvalidBucketName",
            InvalidDigest => "InvalidDigest",
            InvalidLocationConstraint => "InvalidLocationConstraint",
            InvalidPart => "InvalidPart",
            InvalidPartNumber => "InvalidPartNumber",
            InvalidPartOrder => "InvalidPartOrder",
            InvalidRange => "InvalidRange",
            InvalidRequest => "InvalidRequest",
            InvalidStorageClass => "InvalidStorageClass",
            InvalidTag => "InvalidTag",
            KeyTooLongError => "KeyTooLongError",
            MalformedPOSTRequest => "MalformedPOSTRequest",
            MalformedXML => "MalformedXML",
            MethodNotAllowed => "MethodNotAllowed",
            MissingContentLength => "MissingContentLength",
            NoSuchBucket => "NoSuchBucket",
            NoSuchBucketPolicy => "NoSuchBucketPolicy",
            NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            NoSuchConfiguration => "NoSuchConfiguration",
            ObjectLockConfigurationNotFoundError => "ObjectLockConfigurationNotFoundError",
            ReplicationConfigurationNotFoundError => "ReplicationConfigurationNotFoundError",
            NoSuchKey => "NoSuchKey",
            NoSuchLifecycleConfiguration => "NoSuchLifecycleConfiguration",
            NoSuchPublicAccessBlockConfiguration => "NoSuchPublicAccessBlockConfiguration",
            NoSuchTagSet => "NoSuchTagSet",
            NoSuchUpload => "NoSuchUpload",
            NoSuchVersion => "NoSuchVersion",
            NoSuchWebsiteConfiguration => "NoSuchWebsiteConfiguration",
            NotImplemented => "NotImplemented",
            OwnershipControlsNotFoundError => "OwnershipControlsNotFoundError",
            PreconditionFailed => "PreconditionFailed",
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
            InternalError => "InternalError",
            InvalidObjectState => "InvalidObjectState",
            RestoreAlreadyInProgress => "RestoreAlreadyInProgress",
            MalformedACLError => "MalformedACLError",
            UnresolvableGrantByEmailAddress => "UnresolvableGrantByEmailAddress",
            AccessControlListNotSupported => "AccessControlListNotSupported",
            InvalidBucketAclWithObjectOwnership => "InvalidBucketAclWithObjectOwnership",
            UnexpectedContent => "UnexpectedContent",
        }
    }

    pub fn status(self) -> u16 {
        use S3Error::*;
        match self {
            NoSuchAccessPoint => 404,
            AccessPointAlreadyOwnedByYou => 409,
            LambdaResponseNotReceived | LambdaRuntimeError => 500,
            AccessDenied | CORSResponse | SignatureDoesNotMatch | InvalidObjectState => 403,
            RestoreAlreadyInProgress => 409,
            NoSuchBucket
            | NoSuchBucketPolicy
            | NoSuchCORSConfiguration
            | NoSuchConfiguration
            | ObjectLockConfigurationNotFoundError
            | ReplicationConfigurationNotFoundError
            | NoSuchKey
            | NoSuchLifecycleConfiguration
            | NoSuchPublicAccessBlockConfiguration
            | NoSuchTagSet
            | NoSuchUpload
            | NoSuchVersion
            | NoSuchWebsiteConfiguration
            | OwnershipControlsNotFoundError => 404,
            MethodNotAllowed => 405,
            BucketAlreadyExists | BucketAlreadyOwnedByYou | BucketNotEmpty => 409,
            MissingContentLength => 411,
            PreconditionFailed => 412,
            InvalidRange | InvalidPartNumber => 416,
            NotImplemented => 501,
            InternalError => 500,
            _ => 400,
        }
    }

    /// AWS's usual message for the code.
    pub fn default_message(self) -> &'static str {
        use S3Error::*;
        match self {
            NoSuchAccessPoint => "The specified accesspoint does not exist",
            AccessPointAlreadyOwnedByYou => {
                "Your previous request to create the named accesspoint succeeded and you already own it."
            }
            LambdaResponseNotReceived => {
                "The Lambda function exited without successfully calling WriteGetObjectResponse."
            }
            LambdaRuntimeError => "The Lambda function failed during execution.",
            AccessDenied => "Access Denied",
            BadDigest => "The Content-MD5 you specified did not match what we received.",
            BucketAlreadyExists => {
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
            }
            BucketAlreadyOwnedByYou => {
                "Your previous request to create the named bucket succeeded and you already own it."
            }
            BucketNotEmpty => "The bucket you tried to delete is not empty",
            CORSResponse => "CORS is not enabled for this bucket.",
            EntityTooLarge => "Your proposed upload exceeds the maximum allowed size",
            EntityTooSmall => {
                "Your proposed upload is smaller than the minimum allowed object size."
            }
            IllegalLocationConstraintException => {
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
            }
            IllegalVersioningConfigurationException => "The Versioning element must be specified",
            IncompleteBody => {
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            }
            InvalidArgument => "Invalid Argument",
            InvalidBucketName => "The specified bucket is not valid.",
            InvalidDigest => "The Content-MD5 you specified was invalid.",
            InvalidLocationConstraint => "The specified location-constraint is not valid",
            InvalidPart => {
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            }
            InvalidPartOrder => {
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            }
            InvalidRange => "The requested range is not satisfiable",
            InvalidPartNumber => "The requested partnumber is not satisfiable",
            InvalidRequest => "Invalid Request",
            InvalidStorageClass => "The storage class you specified is not valid",
            InvalidTag => "The TagSet is not valid.",
            KeyTooLongError => "Your key is too long",
            MalformedPOSTRequest => {
                "The body of your POST request is not well-formed multipart/form-data."
            }
            MalformedXML => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            MethodNotAllowed => "The specified method is not allowed against this resource.",
            MissingContentLength => "You must provide the Content-Length HTTP header.",
            NoSuchBucket => "The specified bucket does not exist",
            NoSuchBucketPolicy => "The bucket policy does not exist",
            NoSuchCORSConfiguration => "The CORS configuration does not exist",
            NoSuchConfiguration => "The specified configuration does not exist.",
            ObjectLockConfigurationNotFoundError => {
                "Object Lock configuration does not exist for this bucket"
            }
            ReplicationConfigurationNotFoundError => "The replication configuration was not found",
            NoSuchKey => "The specified key does not exist.",
            NoSuchLifecycleConfiguration => "The lifecycle configuration does not exist",
            NoSuchPublicAccessBlockConfiguration => {
                "The public access block configuration was not found"
            }
            NoSuchTagSet => "The TagSet does not exist",
            NoSuchUpload => {
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            }
            NoSuchVersion => "The specified version does not exist.",
            NoSuchWebsiteConfiguration => {
                "The specified bucket does not have a website configuration"
            }
            NotImplemented => "A header you provided implies functionality that is not implemented",
            OwnershipControlsNotFoundError => "The bucket ownership controls were not found",
            PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            SignatureDoesNotMatch => {
                "The request signature we calculated does not match the signature you provided. Check your key and signing method."
            }
            XAmzContentSHA256Mismatch => {
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            }
            InternalError => "We encountered an internal error. Please try again.",
            InvalidObjectState => "The operation is not valid for the object's storage class",
            RestoreAlreadyInProgress => "Object restore is already in progress",
            MalformedACLError => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            UnresolvableGrantByEmailAddress => {
                "The e-mail address you provided does not match any account on record."
            }
            AccessControlListNotSupported => "The bucket does not allow ACLs",
            InvalidBucketAclWithObjectOwnership => {
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
            }
            UnexpectedContent => "This request does not support content",
        }
    }

    /// The error with AWS's usual message.
    pub fn err(self) -> AwsError {
        AwsError::new(self.code(), self.status(), self.default_message())
    }

    /// The error with a specific message.
    pub fn msg(self, message: impl Into<String>) -> AwsError {
        AwsError::new(self.code(), self.status(), message)
    }
}

impl From<S3Error> for AwsError {
    fn from(e: S3Error) -> Self {
        e.err()
    }
}

/// `NoSuchBucket` naming the bucket, as AWS does.
pub fn no_such_bucket(bucket: &str) -> AwsError {
    S3Error::NoSuchBucket.err().with_field("BucketName", bucket)
}

/// `NoSuchKey` naming the key, as AWS does.
pub fn no_such_key(key: &str) -> AwsError {
    S3Error::NoSuchKey.err().with_field("Key", key)
}

/// `InvalidArgument` with the offending argument, as AWS reports it.
pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> AwsError {
    S3Error::InvalidArgument
        .msg(message)
        .with_field("ArgumentName", name)
        .with_field("ArgumentValue", value)
}

/// A storage failure: Aloft's own fault, never the client's.
pub fn internal(e: impl std::fmt::Display) -> AwsError {
    tracing::error!("s3 internal error: {e}");
    S3Error::InternalError.err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_aws() {
        assert_eq!(S3Error::NoSuchKey.status(), 404);
        assert_eq!(S3Error::BucketNotEmpty.status(), 409);
        assert_eq!(S3Error::InvalidRange.status(), 416);
        assert_eq!(S3Error::PreconditionFailed.status(), 412);
        assert_eq!(S3Error::NotImplemented.status(), 501);
        assert_eq!(S3Error::MethodNotAllowed.status(), 405);
        let e = no_such_key("a/b");
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.fields["Key"], "a/b");
    }
}
