'use strict';
// An event-socket client written with the npm package modesl, run by
// e2e/esl_test.go: it connects and authenticates, runs `api status` and a
// `bgapi`, subscribes to CHANNEL_ANSWER and CHANNEL_HANGUP_COMPLETE and
// reports each step as one JSON object per line on stdout. It leaves once
// it has seen a call hang up, or after 30 seconds with an error.
//
// Usage: node modesl_client.js HOST PORT PASSWORD

const esl = require('modesl');

const [host, port, password] = process.argv.slice(2);
const report = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const timer = setTimeout(() => {
  report({ error: 'timed out' });
  process.exit(2);
}, 30000);

const conn = new esl.Connection(host, Number(port), password, () => {
  conn.api('status', (res) => {
    report({ api: res.getBody() });
    conn.bgapi('echo', 'from-modesl', (evt) => {
      report({ bgapi: evt.getBody(), job: evt.getHeader('Job-UUID') });
      conn.events('plain', 'CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE', (reply) => {
        report({ subscribed: reply.getHeader('Reply-Text') });
      });
    });
  });
});

conn.on('error', (err) => {
  report({ error: String(err) });
  process.exit(1);
});

conn.on('esl::event::auth::fail', () => {
  report({ error: 'authentication failed' });
  process.exit(1);
});

conn.on('esl::event::CHANNEL_ANSWER::*', (evt) => {
  report({ event: 'CHANNEL_ANSWER', uuid: evt.getHeader('Unique-ID'), dest: evt.getHeader('Caller-Destination-Number') });
});

conn.on('esl::event::CHANNEL_HANGUP_COMPLETE::*', (evt) => {
  report({ event: 'CHANNEL_HANGUP_COMPLETE', uuid: evt.getHeader('Unique-ID'), cause: evt.getHeader('Hangup-Cause') });
  clearTimeout(timer);
  conn.disconnect();
  process.exit(0);
});
