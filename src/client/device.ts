import { Device, type types } from 'mediasoup-client';
import type { RtpCapabilities } from '../signaling/protocol.ts';

/** A mediasoup-client Device for this browser, loaded with the router's capabilities. */
export async function loadDevice(capabilities: RtpCapabilities | Promise<RtpCapabilities>): Promise<Device> {
  const device = new Device();
  await device.load({ routerRtpCapabilities: (await capabilities) as types.RtpCapabilities });
  return device;
}
