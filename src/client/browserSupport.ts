/**
 * Whether this browser can make a call, and if not, what to tell the person. Checked as the room
 * page opens, from what the browser has (not from its name), except for in-app browsers, which have
 * the APIs but block the camera and microphone: those are known by their user agent.
 */
export type Support = { ok: true } | { ok: false; reason: 'no-webrtc' | 'in-app'; title: string; advice: string };

/** Apps whose built-in browser blocks the camera (or pretends to have none). */
const IN_APP = /\b(FBAN|FBAV|FB_IAB|Instagram|Line\/|MicroMessenger|musical_ly|BytedanceWebview|Snapchat|LinkedInApp|Twitter for)\b/i;

export interface BrowserFacts {
  userAgent: string;
  hasPeerConnection: boolean;
  hasGetUserMedia: boolean;
  secure: boolean;
}

export function browserFacts(): BrowserFacts {
  return {
    userAgent: navigator.userAgent,
    hasPeerConnection: typeof window.RTCPeerConnection === 'function',
    hasGetUserMedia: typeof navigator.mediaDevices?.getUserMedia === 'function',
    secure: window.isSecureContext,
  };
}

export function browserSupport(facts: BrowserFacts): Support {
  if (IN_APP.test(facts.userAgent)) {
    return {
      ok: false,
      reason: 'in-app',
      title: 'Open this call in your browser',
      advice: 'This app’s built-in browser does not let web pages use your camera and microphone. Copy the link and open it in Safari, Chrome, Firefox or Edge (or use the app’s “Open in browser” menu).',
    };
  }
  // Without a secure context the browser hides getUserMedia but can still watch: that case is a notice, not this page.
  if (!facts.hasPeerConnection) {
    return {
      ok: false,
      reason: 'no-webrtc',
      title: 'This browser cannot make video calls',
      advice: 'It has no WebRTC, which calls need (or it is turned off). Open the link in a current Chrome, Edge, Firefox or Safari.',
    };
  }
  return { ok: true };
}

/**
 * Safari (macOS, and every iOS browser, which is WebKit) wants camera and microphone asked for from a
 * user gesture: the pre-join screen then waits for a tap instead of asking as the page opens.
 */
export function mediaNeedsGesture(userAgent: string): boolean {
  if (/\b(iPhone|iPad|iPod)\b/.test(userAgent)) return true;
  return /\bVersion\/[\d.]+.*\bSafari\//.test(userAgent) && !/\b(Chrome|Chromium|CriOS|FxiOS|Edg|OPR|Android)\b/.test(userAgent);
}
