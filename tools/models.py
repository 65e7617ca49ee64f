"""Write the trimmed AWS service models that crate `aloft-model` embeds.

Reads botocore's service-2.json for each service Aloft serves, drops the documentation (and
nothing else: shapes, members, constraints, HTTP/XML bindings, error metadata and protocol
metadata are kept), and writes crates/aloft-model/models/<name>.json.

botocore is pinned so the models cannot drift silently; bump PIN on purpose and re-run:

    /work/venv/bin/python tools/models.py
"""

import gzip
import json
import os
import sys

PIN = "1.44.5"

# (file name Aloft uses, botocore data directory)
SERVICES = [
    ("s3", "s3"),
    ("dynamodb", "dynamodb"),
    ("dynamodbstreams", "dynamodbstreams"),
    ("lambda", "lambda"),
    ("logs", "logs"),
    ("sqs", "sqs"),
    ("sns", "sns"),
    ("events", "events"),
    ("scheduler", "scheduler"),
    ("secretsmanager", "secretsmanager"),
    ("ssm", "ssm"),
    ("kms", "kms"),
    ("monitoring", "cloudwatch"),
    ("cognito-idp", "cognito-idp"),
    ("cognito-identity", "cognito-identity"),
    ("sts", "sts"),
    ("iam", "iam"),
    ("apigateway", "apigateway"),
    ("apigatewayv2", "apigatewayv2"),
    ("apigatewaymanagementapi", "apigatewaymanagementapi"),
    ("kinesis", "kinesis"),
    ("s3control", "s3control"),
]

DROP_KEYS = {"documentation", "documentationUrl", "deprecatedMessage", "examples"}

# SQS's model is json-only today, but older SDKs and CLIs still speak its query protocol, whose
# wire names (flattened `Attribute.N.Name`, `SendMessageBatchRequestEntry.N`, ...) came from the
# retired query model. Re-adding those names lets the query codec serve both generations; member
# names go in `queryName` (read only by the query/XML side) because a `locationName` would also
# rename the member in JSON bodies.
# (shape, member) -> extra member traits; ("shape", None) -> traits of the shape itself.
SQS_QUERY_NAMES = {
    ("CreateQueueRequest", "Attributes"): {"queryName": "Attribute"},
    ("CreateQueueRequest", "tags"): {"queryName": "Tag"},
    ("SetQueueAttributesRequest", "Attributes"): {"queryName": "Attribute"},
    ("GetQueueAttributesRequest", "AttributeNames"): {},
    ("GetQueueAttributesResult", "Attributes"): {"queryName": "Attribute"},
    ("ReceiveMessageRequest", "AttributeNames"): {},
    ("ReceiveMessageRequest", "MessageSystemAttributeNames"): {},
    ("ReceiveMessageRequest", "MessageAttributeNames"): {},
    ("ReceiveMessageResult", "Messages"): {},
    ("Message", "Attributes"): {"queryName": "Attribute"},
    ("Message", "MessageAttributes"): {"queryName": "MessageAttribute"},
    ("SendMessageRequest", "MessageAttributes"): {"queryName": "MessageAttribute"},
    ("SendMessageRequest", "MessageSystemAttributes"): {"queryName": "MessageSystemAttribute"},
    ("SendMessageBatchRequestEntry", "MessageAttributes"): {"queryName": "MessageAttribute"},
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): {"queryName": "MessageSystemAttribute"},
    ("SendMessageBatchRequest", "Entries"): {},
    ("SendMessageBatchResult", "Successful"): {},
    ("SendMessageBatchResult", "Failed"): {},
    ("DeleteMessageBatchRequest", "Entries"): {},
    ("DeleteMessageBatchResult", "Successful"): {},
    ("DeleteMessageBatchResult", "Failed"): {},
    ("ChangeMessageVisibilityBatchRequest", "Entries"): {},
    ("ChangeMessageVisibilityBatchResult", "Successful"): {},
    ("ChangeMessageVisibilityBatchResult", "Failed"): {},
    ("ListQueuesResult", "QueueUrls"): {},
    ("ListDeadLetterSourceQueuesResult", "queueUrls"): {},
    ("TagQueueRequest", "Tags"): {"queryName": "Tag"},
    ("UntagQueueRequest", "TagKeys"): {},
    ("ListQueueTagsResult", "Tags"): {"queryName": "Tag"},
    ("AddPermissionRequest", "AWSAccountIds"): {},
    ("AddPermissionRequest", "Actions"): {},
    ("MessageAttributeValue", "StringListValues"): {},
    ("MessageAttributeValue", "BinaryListValues"): {},
    ("MessageSystemAttributeValue", "StringListValues"): {},
    ("MessageSystemAttributeValue", "BinaryListValues"): {},
}
# Shapes whose query form was flattened, with the element / entry names of the old model.
SQS_QUERY_SHAPES = {
    "QueueAttributeMap": {"flattened": True, "key": "Name", "value": "Value"},
    "MessageSystemAttributeMap": {"flattened": True, "key": "Name", "value": "Value"},
    "MessageBodyAttributeMap": {"flattened": True, "key": "Name", "value": "Value"},
    "MessageBodySystemAttributeMap": {"flattened": True, "key": "Name", "value": "Value"},
    "TagMap": {"flattened": True, "key": "Key", "value": "Value"},
    "AttributeNameList": {"flattened": True, "member": "AttributeName"},
    "MessageSystemAttributeList": {"flattened": True, "member": "AttributeName"},
    "MessageAttributeNameList": {"flattened": True, "member": "MessageAttributeName"},
    "MessageList": {"flattened": True, "member": "Message"},
    "SendMessageBatchRequestEntryList": {"flattened": True, "member": "SendMessageBatchRequestEntry"},
    "SendMessageBatchResultEntryList": {"flattened": True, "member": "SendMessageBatchResultEntry"},
    "BatchResultErrorEntryList": {"flattened": True, "member": "BatchResultErrorEntry"},
    "DeleteMessageBatchRequestEntryList": {"flattened": True, "member": "DeleteMessageBatchRequestEntry"},
    "DeleteMessageBatchResultEntryList": {"flattened": True, "member": "DeleteMessageBatchResultEntry"},
    "ChangeMessageVisibilityBatchRequestEntryList": {"flattened": True, "member": "ChangeMessageVisibilityBatchRequestEntry"},
    "ChangeMessageVisibilityBatchResultEntryList": {"flattened": True, "member": "ChangeMessageVisibilityBatchResultEntry"},
    "QueueUrlList": {"flattened": True, "member": "QueueUrl"},
    "TagKeyList": {"flattened": True, "member": "TagKey"},
    "AWSAccountIdList": {"flattened": True, "member": "AWSAccountId"},
    "ActionNameList": {"flattened": True, "member": "ActionName"},
    "StringList": {"flattened": True, "member": "StringListValue"},
    "BinaryList": {"flattened": True, "member": "BinaryListValue"},
}

# The legacy query codes of SQS's errors (sent in `x-amzn-query-error` and query XML), which
# the json model no longer carries: (code, HTTP status).
SQS_QUERY_ERRORS = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
    "InvalidIdFormat": ("InvalidIdFormat", 400),
    "OverLimit": ("OverLimit", 403),
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    "InvalidSecurity": ("InvalidSecurity", 403),
    "InvalidAddress": ("InvalidAddress", 404),
    "RequestThrottled": ("RequestThrottled", 403),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
    "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
    "KmsDisabled": ("KMS.DisabledException", 400),
    "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
    "KmsInvalidState": ("KMS.InvalidStateException", 400),
    "KmsNotFound": ("KMS.NotFoundException", 400),
    "KmsOptInRequired": ("KMS.OptInRequired", 403),
    "KmsThrottled": ("KMS.ThrottlingException", 400),
}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP_KEYS}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def sqs_query_overlay(model):
    shapes = model["shapes"]
    for (shape, member), traits in SQS_QUERY_NAMES.items():
        if shape in shapes and member in shapes[shape].get("members", {}):
            shapes[shape]["members"][member].update(traits)
    for name, info in SQS_QUERY_SHAPES.items():
        shape = shapes.get(name)
        if shape is None:
            continue
        shape["flattened"] = info["flattened"]
        if "member" in info and "member" in shape:
            shape["member"]["locationName"] = info["member"]
        if "key" in info and "key" in shape:
            shape["key"]["locationName"] = info["key"]
            shape["value"]["locationName"] = info["value"]
    for name, (code, status) in SQS_QUERY_ERRORS.items():
        if name in shapes and "error" not in shapes[name]:
            shapes[name]["error"] = {"code": code, "httpStatusCode": status, "senderFault": True}
    model["metadata"].setdefault("xmlNamespace", "http://queue.amazonaws.com/doc/2012-11-05/")


def load(directory, data):
    base = os.path.join(data, directory)
    versions = sorted(d for d in os.listdir(base) if os.path.isdir(os.path.join(base, d)))
    path = os.path.join(base, versions[-1], "service-2.json")
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    import botocore

    if botocore.__version__ != PIN:
        sys.exit(f"botocore {botocore.__version__} found; pin is {PIN} (pip install botocore=={PIN})")
    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "crates", "aloft-model", "models")
    os.makedirs(out, exist_ok=True)
    total = 0
    for name, directory in SERVICES:
        model = strip(load(directory, data))
        if name == "sqs":
            sqs_query_overlay(model)
        text = json.dumps(model, separators=(",", ":"), sort_keys=False) + "\n"
        with open(os.path.join(out, f"{name}.json"), "w", encoding="utf-8") as f:
            f.write(text)
        total += len(text)
        print(f"{name:26} {len(model['operations']):4} ops {len(text) / 1024:8.1f} KiB")
    print(f"{'total':26}          {total / 1024:8.1f} KiB (botocore {PIN})")


if __name__ == "__main__":
    main()
