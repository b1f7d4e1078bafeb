// --step, as ansible-playbook asks it: before each task, "Perform task: TASK: NAME (N)o/(y)es/(c)ontinue:".
// y runs it, c runs it and every task after without asking, anything else (Enter) leaves it out. Answers
// are read as lines from stdin (a terminal, or a pipe of answers); at the end of input a task is left out.
import { createInterface, type Interface } from 'node:readline';

export type StepAnswer = 'no' | 'yes' | 'continue';

export interface StepPrompter {
  ask(task: string): Promise<StepAnswer>;
  close(): void;
}

export function stepAnswer(line: string | undefined): StepAnswer {
  const a = (line ?? '').trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'yes';
  if (a === 'c' || a === 'continue') return 'continue';
  return 'no';
}

export function stepPrompter(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): StepPrompter {
  let rl: Interface | undefined;
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  // One reader for the whole run: a pipe's chunk may hold several answers.
  const reader = () => {
    if (rl) return;
    rl = createInterface({ input, terminal: false });
    rl.on('line', (line) => {
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    });
    rl.on('close', () => {
      ended = true;
      for (const w of waiting.splice(0)) w(undefined);
    });
  };
  const nextLine = (): Promise<string | undefined> => {
    reader();
    if (lines.length > 0) return Promise.resolve(lines.shift());
    if (ended) return Promise.resolve(undefined);
    return new Promise((resolve) => waiting.push(resolve));
  };
  return {
    async ask(task) {
      output.write(`Perform task: TASK: ${task} (N)o/(y)es/(c)ontinue: `);
      const line = await nextLine();
      if (line === undefined) output.write('(end of input: no)\n');
      return stepAnswer(line);
    },
    close() {
      rl?.close();
    },
  };
}
