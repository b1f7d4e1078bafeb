// Reads a passphrase from the terminal without echoing it. The prompt goes to stderr so stdout stays clean.
import { ExitCode } from '../load/problems.js';

export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') {
          done();
          resolve(answer);
          return;
        }
        if (c === '\u0003') {
          // Ctrl-C: raw mode swallows the signal, so act as it would.
          done();
          process.exit(ExitCode.interrupted);
        }
        if (c === '\u0004') {
          done();
          reject(new Error('no passphrase entered'));
          return;
        }
        if (c === '\u007f' || c === '\b') answer = answer.slice(0, -1);
        else if (c >= ' ') answer += c;
      }
    };
    stdin.on('data', onData);
  });
}
