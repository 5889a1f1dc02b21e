// Entry point of the bundle that the command test runs as a child process.
import { Command } from 'commander';
import { registerMockTrackerCommand } from '../../src/cli/mock-tracker.js';

const program = new Command('mfc-events-agent');
registerMockTrackerCommand(program);
await program.parseAsync(process.argv);
