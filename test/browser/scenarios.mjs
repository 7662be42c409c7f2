// The browser scenarios, in the order they run; each gets its own hub.
import { signInAndZones } from './scenarios/sign_in.mjs';
import { houston } from './scenarios/houston.mjs';

export const scenarios = [
  { name: 'sign-in', run: signInAndZones },
  { name: 'houston', run: houston },
];
