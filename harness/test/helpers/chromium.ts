// Debian's Chromium, headless, through playwright-core: never a browser playwright downloads. Missing, it is a
// failure that says how to install it (the tests that need it must not pass by skipping).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the report's browser test needs Debian's chromium (apt-get install -y chromium; .ci/run installs it)`);
  }
  // --no-sandbox: CI and the developers' machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}
