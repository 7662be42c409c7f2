// The browser scenarios, in the order they run; each gets its own hub.
import { signInAndZones } from './scenarios/sign_in.mjs';
import { houston } from './scenarios/houston.mjs';
import { validationError, conflict } from './scenarios/editing.mjs';
import { cliLive } from './scenarios/live.mjs';
import { roles } from './scenarios/roles.mjs';
import { scale } from './scenarios/scale.mjs';
import { explain } from './scenarios/explain.mjs';
import { lifecycle } from './scenarios/lifecycle.mjs';
import { historyGone } from './scenarios/history_gone.mjs';

export const scenarios = [
  { name: 'sign-in', run: signInAndZones },
  { name: 'houston', run: houston },
  { name: 'validation', run: validationError },
  { name: 'conflict', run: conflict },
  { name: 'cli-live', run: cliLive },
  { name: 'roles', run: roles },
  { name: 'scale', run: scale },
  { name: 'explain', run: explain },
  { name: 'lifecycle', run: lifecycle },
  { name: 'history-gone', run: historyGone, hubArgs: ['--history-retention', '2', '--history-compaction-interval', '50ms'] },
];
