// Every client a test opens is closed when the test ends, passed or failed, so that node can exit. A close that
// does not finish in time fails the test with what would not close, rather than hanging the whole file until the
// runner's time-out (a hook has no time-out of its own).
// The devices a test made are deleted after that, once their clients are closed: a device deleted while it is
// connected is disconnected by the hub (as IoT Hub does), and azure-iot-device then keeps reconnecting, refused,
// in the background; its close() may wait on that, and node does not exit.
'use strict';

const closeTimeoutMs = 10000;

function closeWithin(closable, ms) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), ms); });
  const closing = (async () => {
    if (typeof closable.end === 'function') closable.end(true); // an mqtt.js client
    else await closable.close();
  })().then(() => 'closed', () => 'closed'); // a client that was never opened, or is closed already
  return Promise.race([closing, late]).finally(() => clearTimeout(timer));
}

// "Client over Amqp": which of the SDKs' several classes named Client, and over which transport.
const describe = (closable) => {
  const transport = closable._transport && closable._transport.constructor.name;
  return transport ? `${closable.constructor.name} over ${transport}` : closable.constructor.name;
};

function closeTracker(test) {
  const opened = [];
  const devices = [];
  const track = (closable) => { opened.push(closable); return closable; };
  track.deleteDeviceAtEnd = (registry, deviceId) => { devices.push({ registry, deviceId }); };
  test.afterEach(async () => {
    const stuck = [];
    for (const closable of opened.splice(0).reverse()) {
      if (await closeWithin(closable, closeTimeoutMs) === 'late') stuck.push(describe(closable));
    }
    const problems = stuck.length > 0 ? [`did not close within ${closeTimeoutMs / 1000} s: ${stuck.join(', ')}`] : [];
    for (const { registry, deviceId } of devices.splice(0)) {
      try { await registry.delete(deviceId); } catch (err) { problems.push(`could not delete ${deviceId}: ${err.message}`); }
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
  });
  return track;
}

module.exports = { closeTracker };
