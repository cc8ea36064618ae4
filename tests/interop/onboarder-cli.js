// onboarder-cli for the interop tests: run with the sandbox added as hub "sb", in a private keychain session of its
// own (scripts/test-session) inside this network namespace. Each line of commands is a shell command in which "$CLI"
// is the CLI. Asynchronous, so that the devices the test's own process runs go on answering meanwhile.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');

// A function of commands that resolves to the run's {stdout, stderr}, or rejects when a command fails.
function onboarderCliFor(ready, timeoutMs = 60000) {
  return async (commands) => {
    const cli = process.env.ONBOARDER_CLI;
    assert.ok(cli && fs.existsSync(cli), 'ONBOARDER_CLI names the onboarder-cli binary');
    const script = ['set -eu', 'printf \'%s\' "$HUB_CS" | "$CLI" hub add sb --ca "$CA" >&2', ...commands].join('\n');
    const env = { ...process.env, CLI: cli, HUB_CS: ready.connectionString, CA: ready.caFile };
    delete env.ONBOARDER_TEST_SESSION;
    const { stdout, stderr } = await promisify(execFile)(path.join(__dirname, '..', '..', 'scripts', 'test-session'),
      ['bash', '-c', script], { env, encoding: 'utf8', timeout: timeoutMs });
    return { stdout, stderr };
  };
}

module.exports = { onboarderCliFor };
