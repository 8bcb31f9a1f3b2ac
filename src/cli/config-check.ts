import { configCheck } from '../config/check';

const path = process.argv[2];
if (!path) {
  console.error('usage: config-check <rollouts config file>');
  process.exit(2);
}
const result = configCheck(path);
if (result.ok) {
  for (const warning of result.warnings) console.error(warning);
  console.log(result.message);
} else {
  console.error(result.message);
  process.exit(1);
}
