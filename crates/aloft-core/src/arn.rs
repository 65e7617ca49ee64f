//! ARNs, built and taken apart in one place.

/// `arn:aws:{service}:{region}:{account}:{resource}`; region or account may be empty (IAM, S3).
pub fn build(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}

/// The parts of an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub fn parse(arn: &str) -> Option<Arn<'_>> {
    let mut it = arn.splitn(6, ':');
    if it.next()? != "arn" {
        return None;
    }
    let a = Arn {
        partition: it.next()?,
        service: it.next()?,
        region: it.next()?,
        account: it.next()?,
        resource: it.next()?,
    };
    (!a.partition.is_empty() && !a.service.is_empty()).then_some(a)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let s = super::build("lambda", "us-east-1", "000000000000", "function:f:1");
        let a = super::parse(&s).unwrap();
        assert_eq!(
            (a.service, a.region, a.account, a.resource),
            ("lambda", "us-east-1", "000000000000", "function:f:1")
        );
        assert!(super::parse("arn:aws").is_none());
        assert!(super::parse("x:aws:s3:::b").is_none());
    }
}
