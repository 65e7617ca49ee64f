// Aloft's Node.js runtime client: the loop AWS's runtime runs, speaking the Lambda Runtime API.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const [HOST, PORT] = [API.slice(0, API.lastIndexOf(':')), Number(API.slice(API.lastIndexOf(':') + 1))];
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentRequestId = '';

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    const req = http.request(
      { host: HOST, port: PORT, method, path: p, agent, headers: Object.assign({ 'Content-Length': data.length }, headers || {}) },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

// AWS's console format: timestamp, request id, level, message; newlines become \r so an
// entry stays one CloudWatch event.
function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [name, level] of Object.entries(levels)) {
    console[name] = (...args) => {
      const msg = util.format(...args).replace(/\n/g, '\r');
      fs.writeSync(1, `${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${msg}\n`);
    };
  }
}

function errorBody(err) {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: String(err.stack || '').split('\n') };
  }
  return { errorType: typeof err === 'string' ? 'string' : typeof err, errorMessage: typeof err === 'string' ? err : JSON.stringify(err), trace: [] };
}

function mark(requestId) {
  fs.writeSync(1, `\x1eALOFT_END ${requestId}\n`);
}

async function loadHandler() {
  const spec = process.env._HANDLER || '';
  const dot = spec.lastIndexOf('.');
  if (dot < 1) {
    return [null, { errorType: 'Runtime.MalformedHandlerName', errorMessage: `Bad handler ${spec}`, trace: [] }];
  }
  const modPath = spec.slice(0, dot);
  const fnPath = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const base = path.resolve(root, modPath);
  let mod;
  try {
    let file = null;
    for (const ext of ['.js', '.mjs', '.cjs']) {
      if (fs.existsSync(base + ext)) { file = base + ext; break; }
    }
    if (file === null) {
      const e = new Error(`Cannot find module '${modPath}'\nRequire stack:\n- ${__filename}`);
      return [null, { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${e.message}`, trace: [`Runtime.ImportModuleError: Error: ${e.message}`] }];
    }
    if (file.endsWith('.mjs')) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
          mod = await import(pathToFileURL(file).href);
        } else {
          throw e;
        }
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      return [null, { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `${e.name}: ${e.message}`, trace: String(e.stack || '').split('\n') }];
    }
    if (e && e.code === 'MODULE_NOT_FOUND') {
      return [null, { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${e.message}`, trace: String(e.stack || '').split('\n') }];
    }
    return [null, errorBody(e)];
  }
  let fn = mod;
  for (const part of fnPath.split('.')) {
    fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== 'function' && mod && mod.default) {
    fn = mod.default[fnPath];
  }
  if (typeof fn !== 'function') {
    return [null, { errorType: 'Runtime.HandlerNotFound', errorMessage: `${spec} is undefined or not exported`, trace: [] }];
  }
  return [fn, null];
}

function makeContext(id, headers, onDone) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const cc = headers['lambda-runtime-client-context'];
  const ci = headers['lambda-runtime-cognito-identity'];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: id,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: ci ? JSON.parse(ci) : undefined,
    clientContext: cc ? JSON.parse(cc) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (err, res) => onDone(err, res),
    succeed: (res) => onDone(null, res),
    fail: (err) => onDone(err),
  };
}

function logError(body) {
  const msg = JSON.stringify(body);
  fs.writeSync(1, `${new Date().toISOString()}\t${currentRequestId}\tERROR\tInvoke Error \t${msg}\n`);
}

async function main() {
  patchConsole();
  const [handler, initError] = await loadHandler();
  if (initError) {
    fs.writeSync(1, `${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(initError)}\n`);
    await request('POST', `${BASE}/init/error`, JSON.stringify(initError), { 'Lambda-Runtime-Function-Error-Type': initError.errorType });
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', `${BASE}/invocation/next`);
    if (next.status !== 200) continue;
    const id = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
    } catch (e) {
      const body = { errorType: 'Runtime.UnmarshalError', errorMessage: `Unable to parse input as JSON: ${e.message}`, trace: [] };
      logError(body);
      mark(id);
      await request('POST', `${BASE}/invocation/${id}/error`, JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': body.errorType });
      continue;
    }
    const outcome = await new Promise((resolve) => {
      let settled = false;
      const done = (err, res) => {
        if (settled) return;
        settled = true;
        resolve(err !== undefined && err !== null ? { err } : { res });
      };
      const ctx = makeContext(id, next.headers, done);
      try {
        const ret = handler(event, ctx, done);
        if (ret && typeof ret.then === 'function') {
          ret.then((res) => done(null, res), (err) => done(err === undefined ? new Error('undefined') : err));
        } else if (handler.length < 3) {
          done(null, ret);
        }
      } catch (e) {
        done(e);
      }
    });
    if ('err' in outcome) {
      const body = errorBody(outcome.err);
      logError(body);
      mark(id);
      await request('POST', `${BASE}/invocation/${id}/error`, JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': body.errorType });
    } else {
      let out;
      try {
        out = outcome.res === undefined ? 'null' : JSON.stringify(outcome.res);
      } catch (e) {
        const body = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
        logError(body);
        mark(id);
        await request('POST', `${BASE}/invocation/${id}/error`, JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': body.errorType });
        continue;
      }
      mark(id);
      await request('POST', `${BASE}/invocation/${id}/response`, out);
    }
  }
}

process.on('uncaughtException', (e) => {
  const body = errorBody(e);
  fs.writeSync(1, `${new Date().toISOString()}\t${currentRequestId}\tERROR\tUncaught Exception \t${JSON.stringify(body)}\n`);
  process.exit(129);
});

main();
