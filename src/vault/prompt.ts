// Reads a secret (vault passphrase, SSH or sudo password) from the terminal without echoing it. The prompt
// goes to stderr so stdout stays clean.
import { ExitCode, UsageError } from '../core/problems.js';

export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    // Raw mode before the question shows: a key typed at once must not echo or be taken as end of input.
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    process.stderr.write(question);
    const done = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      process.stderr.write('\n');
    };
    const nothing = () => new UsageError(`nothing entered at '${question.trim()}'`);
    // The terminal went away (or Ctrl-D reached a line discipline still in canonical mode): no answer will come.
    const onEnd = () => {
      done();
      reject(nothing());
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
          reject(nothing());
          return;
        }
        if (c === '\u007f' || c === '\b') answer = answer.slice(0, -1);
        else if (c >= ' ') answer += c;
      }
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}
