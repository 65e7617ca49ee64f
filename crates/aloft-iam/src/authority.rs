//! The gateway's [`Authority`]: access keys (IAM users' and STS's temporary ones) to callers,
//! and authorization with the policy engine — the caller's identity policies (inline, attached,
//! groups'), permission boundary and session policy, together with the resource's own policy.

use aloft_core::auth::{Authority, Authorization, Caller, Decision as CoreDecision};
use serde_json::{Value, json};

use crate::policy::{Decision, Request, evaluate, evaluate_set, principal_matches};
use crate::state::{Account, Identity, Principal};

/// The documents that apply to a principal: inline, attached customer policies (default
/// version), and the AWS-managed policies Aloft knows.
pub fn principal_docs(a: &Account, p: &Principal, out: &mut Vec<Value>) {
    for doc in p.inline.values() {
        if let Ok(v) = serde_json::from_str(doc) {
            out.push(v);
        }
    }
    for arn in &p.attached {
        if let Some(doc) = aws_managed(arn) {
            out.push(doc);
        } else if let Some(pol) = a.policies.get(arn)
            && let Some(v) = pol.versions.iter().find(|v| v.id == pol.default_version)
            && let Ok(doc) = serde_json::from_str(&v.document)
        {
            out.push(doc);
        }
    }
}

/// The AWS-managed policies serverless projects attach most, reduced to their effect.
fn aws_managed(arn: &str) -> Option<Value> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    let name = name.rsplit('/').next().unwrap_or(name);
    let actions: &[&str] = match name {
        "AdministratorAccess" => &["*"],
        "PowerUserAccess" => &["*"],
        "ReadOnlyAccess" => &[
            "*:Get*",
            "*:List*",
            "*:Describe*",
            "*:BatchGet*",
            "*:Query",
            "*:Scan",
        ],
        "AmazonS3FullAccess" => &["s3:*", "s3-object-lambda:*"],
        "AmazonS3ReadOnlyAccess" => &["s3:Get*", "s3:List*", "s3:Describe*"],
        "AmazonDynamoDBFullAccess" => &["dynamodb:*"],
        "AmazonDynamoDBReadOnlyAccess" => &[
            "dynamodb:BatchGet*",
            "dynamodb:Describe*",
            "dynamodb:Get*",
            "dynamodb:List*",
            "dynamodb:Query",
            "dynamodb:Scan",
        ],
        "AmazonSQSFullAccess" => &["sqs:*"],
        "AmazonSNSFullAccess" => &["sns:*"],
        "AWSLambda_FullAccess" => &["lambda:*"],
        "AWSLambdaBasicExecutionRole" => &[
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ],
        "CloudWatchLogsFullAccess" => &["logs:*"],
        "AmazonCognitoPowerUser" => &["cognito-identity:*", "cognito-idp:*", "cognito-sync:*"],
        _ => return None,
    };
    Some(json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
}

/// Identity documents and boundary of the principal behind an ARN (`user/...`,
/// `assumed-role/{role}/{session}`), read from its account.
fn identity_policies(id: &Identity, caller_arn: &str) -> (Vec<Value>, Option<Value>) {
    let Some(arn) = aloft_core::arn::parse(caller_arn) else {
        return (Vec::new(), None);
    };
    let (kind, name) = match arn.resource.split_once('/') {
        Some(("user", rest)) => ("user", rest.rsplit('/').next().unwrap_or(rest)),
        Some(("assumed-role", rest)) => ("role", rest.split('/').next().unwrap_or(rest)),
        _ => return (Vec::new(), None),
    };
    id.read_account(arn.account, |a| {
        let p = match kind {
            "user" => a.users.get(name),
            _ => a.roles.get(name),
        };
        let mut docs = Vec::new();
        let Some(p) = p else {
            return Ok((docs, None));
        };
        principal_docs(a, p, &mut docs);
        for g in &p.groups {
            if let Some(g) = a.groups.get(g) {
                principal_docs(a, g, &mut docs);
            }
        }
        let boundary = p.permissions_boundary.as_ref().and_then(|b| {
            aws_managed(b).or_else(|| {
                a.policies
                    .get(b)
                    .and_then(|pol| pol.versions.iter().find(|v| v.id == pol.default_version))
                    .and_then(|v| serde_json::from_str::<Value>(&v.document).ok())
            })
        });
        Ok((docs, boundary))
    })
    .unwrap_or_default()
}

/// The ARNs a resource policy's `Principal` may name the caller by.
fn principal_names(caller: &Caller) -> Vec<String> {
    let mut names = vec![
        caller.arn.clone(),
        caller.account.clone(),
        format!("arn:aws:iam::{}:root", caller.account),
    ];
    // An assumed-role session is also its role.
    if let Some(rest) = caller.arn.split(":assumed-role/").nth(1)
        && let Some(role) = rest.split('/').next()
    {
        names.push(format!("arn:aws:iam::{}:role/{role}", caller.account));
    }
    names
}

impl Authority for Identity {
    fn caller(&self, access_key: &str) -> Option<Caller> {
        let st = self.lock();
        let c = st.keys.get(access_key)?;
        if c.status != "Active" {
            return None;
        }
        Some(Caller {
            access_key: c.access_key.clone(),
            secret: c.secret.clone(),
            session_token: c.session_token.clone(),
            account: c.account.clone(),
            arn: c.arn.clone(),
            expires_millis: c.expires,
            root: c.arn.ends_with(":root"),
        })
    }

    fn authorize(&self, auth: &Authorization<'_>) -> CoreDecision {
        let req = Request {
            action: auth.action,
            resource: auth.resource,
            context: auth.context,
        };
        let (docs, boundary) = identity_policies(self, &auth.caller.arn);
        let session = self
            .credential(&auth.caller.access_key)
            .and_then(|c| c.session_policy)
            .and_then(|p| serde_json::from_str::<Value>(&p).ok());
        let identity = evaluate(&docs, boundary.as_ref(), session.as_ref(), &req);
        let names = principal_names(auth.caller);
        let resource = auth
            .resource_policy
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .map(|doc| resource_decision(&doc, &names, &req));
        let same = same_account(auth.resource, &auth.caller.account);
        match (identity, resource) {
            (_, Some(Decision::ExplicitDeny)) => CoreDecision::ExplicitDeny {
                resource_based: true,
            },
            (Decision::ExplicitDeny, _) => CoreDecision::ExplicitDeny {
                resource_based: false,
            },
            // Within one account either side grants on its own; across accounts both must:
            // the caller's identity policy and the resource's policy naming the caller.
            (Decision::Allowed, _) if same => CoreDecision::Allowed,
            (Decision::Allowed, Some(Decision::Allowed)) => CoreDecision::Allowed,
            (_, Some(Decision::Allowed)) if same => CoreDecision::Allowed,
            _ => CoreDecision::ImplicitDeny,
        }
    }
}

fn same_account(resource: &str, account: &str) -> bool {
    aloft_core::arn::parse(resource).is_none_or(|a| a.account.is_empty() || a.account == account)
}

/// A resource policy's statements that name the caller as `Principal`.
pub fn resource_decision(doc: &Value, names: &[String], req: &Request<'_>) -> Decision {
    let statements: Vec<Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let applicable: Vec<Value> = statements
        .into_iter()
        .filter(|st| principal_matches(st, names))
        .collect();
    evaluate_set(&[json!({ "Statement": applicable })], req)
}
