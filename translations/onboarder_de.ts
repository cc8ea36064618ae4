<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>Certificate</name>
    <message>
        <source>A certificate&apos;s common name must have 1 to 64 characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A certificate must be valid for 1 to 36500 days.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not create the certificate for &quot;%1&quot;: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is not a PEM certificate: there is no &quot;-----BEGIN CERTIFICATE-----&quot; line.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The PEM certificate is damaged: its base64 body or its structure cannot be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The DER certificate cannot be read: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a CA certificate, so it cannot sign others.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The CA&apos;s private key does not belong to the CA certificate &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Cli</name>
    <message>
        <source>Cannot read %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>standard input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is empty: give it on standard input or with --secret-file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Missing argument. See --help.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unexpected argument &quot;%1&quot;. See --help.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>--%1 takes a whole number from %2 to %3; &quot;%4&quot; is not one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checks a connection string read from standard input (or --secret-file) and prints its fields, the key masked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Print the key instead of a mask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the connection string from FILE.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FILE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FIELD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VALUE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prints a Shared Access Signature token for a resource URI. The base64 key is read from standard input or --secret-file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resource URI, e.g. myhub.azure-devices.net/devices/dev1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>URI</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shared access policy name (skn); leave out for a device key.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NAME</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seconds from now until the token expires.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SECONDS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Absolute expiry in seconds since 1970 (instead of --ttl).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EPOCH</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the key from FILE.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>--uri is required.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Give exactly one of --ttl and --expiry.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shared access key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection strings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check a connection string and show its fields.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shared Access Signature tokens.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Create a token; key on standard input.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Azure defaults</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST %1, MQTT %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>, own CA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adds a hub. The hub&apos;s connection string (a shared access policy&apos;s, e.g. iothubowner) is read from standard input or --secret-file and stored in the system keychain only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A local name for the hub.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trust this CA certificate (PEM) for this hub only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HTTPS port of the registry API (default 443).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>N</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MQTT port of the device endpoint (default 8883).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the connection string from FILE instead of standard input.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub connection string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added hub &quot;%1&quot; (%2, policy %3). Its key is in the system keychain.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lists the hubs that were added.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No hubs yet. Add one with: onboarder-cli hub add NAME &lt; connection-string-file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HOST</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>POLICY</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ENDPOINT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removes a hub from this computer: its profile and its key in the keychain. Nothing changes in the hub itself.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub&apos;s local name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removed hub &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hubs this computer knows (connection strings in the keychain).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add a hub; connection string on standard input.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>List hubs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove a hub and its key.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Usage: onboarder-cli [--hub NAME] [--json] &lt;noun&gt; &lt;verb&gt; [arguments]

Onboard and monitor Azure IoT Hub devices. Secrets are read from standard input or a file, never from arguments.

Commands:
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
Global options:
  --hub NAME   the hub to work on (default: the current one)
  --json       print JSON on standard output
  --version    print the version
  --help       this text; also after a noun or a verb

Exit codes: 0 ok, 1 usage, 2 invalid input, 3 not found, 4 conflict, 5 auth refused, 6 network, 7 device, 8 keychain unavailable, 10 internal.
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Usage: onboarder-cli %1 &lt;verb&gt; [arguments]

%2

Verbs:
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown option %1. See --help.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown command &quot;%1&quot;. See --help.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; has no verb &quot;%2&quot;. See onboarder-cli %1 --help.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Makes a hub the current one: commands without --hub, and the app, work on it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no hub named &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is now the current hub.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make a hub the current one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No hub chosen: give --hub NAME, or make one current with onboarder-cli hub use NAME.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>never</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lists devices of the hub, page by page, as the hub&apos;s query returns them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>An IoT Hub query (default: SELECT * FROM devices).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SQL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>At most N devices (default 1000).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Comma-separated values instead of a table.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DEVICE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>STATUS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CONNECTION</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LAST ACTIVITY</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AUTH</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C2D QUEUED</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Registers a device in the hub. SAS keys are generated by the hub; a self-signed X.509 device needs its certificate (--cert) or thumbprint (--thumbprint).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device id.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>sas (default), x509-self-signed or x509-ca.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TYPE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Register it disabled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device&apos;s certificate (PEM), for x509-self-signed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The certificate&apos;s SHA-1 or SHA-256 thumbprint, for x509-self-signed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HEX</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A self-signed device needs --cert FILE or --thumbprint with 40 (SHA-1) or 64 (SHA-256) hex digits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>--auth is sas, x509-self-signed or x509-ca, not &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Registered device &quot;%1&quot; (%2, %3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shows a device&apos;s identity: status, connection, last activity, authentication (keys masked).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the symmetric keys.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last activity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Authentication</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Queued C2D messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ETag</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Primary key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Secondary key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Primary thumbprint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Secondary thumbprint</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deletes a device from the hub, with its keys and twin. Asks first unless --yes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not ask.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deleting &quot;%1&quot; needs --yes when there is no terminal to ask on.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete device &quot;%1&quot; from hub &quot;%2&quot;? [y/N] </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing was deleted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deleted device &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enables a device: it may connect again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disables a device: the hub refuses its connections.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device &quot;%1&quot; is %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prints a device&apos;s connection string, its key masked unless --reveal.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>With the secondary key.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Print the key itself (mind who sees your terminal).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device &quot;%1&quot; has no authentication, so it has no connection string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prints a device&apos;s twin as JSON (tags, desired and reported properties).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Patches a device&apos;s twin with the JSON read from standard input, e.g. {&quot;tags&quot;:{&quot;site&quot;:&quot;bench-1&quot;},&quot;properties&quot;:{&quot;desired&quot;:{&quot;interval&quot;:30}}}; null removes a key.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Apply only if the twin still has this ETag.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ETAG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the JSON from FILE.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The patch is not valid JSON: %1 at character %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The patch must be a JSON object.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Twin updated; its ETag is now %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invokes a direct method on a connected device and prints its status and payload.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The method&apos;s name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON payload (default null).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seconds to wait for the device&apos;s answer (5–300, default 30).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>--payload is not valid JSON: %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>status %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Devices of the hub (--hub NAME, or the current hub).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>List devices; --query, --top, --csv.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Register a device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show a device&apos;s identity.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete a device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enable a device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disable a device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Print a device&apos;s connection string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device twins.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Print a twin.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Patch a twin; JSON on standard input.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Direct methods.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Invoke a direct method.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>HubClient</name>
    <message>
        <source>The hub refused the request as invalid (%1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub refused the credentials: check that the hub&apos;s connection string is current and its policy has the rights this needs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device %1 is not connected, so it cannot answer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub has no device %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device %1 exists already.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was changed by someone else since it was read. Reload it and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub is throttling requests and still was after several tries; wait a minute.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device %1 did not answer in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub answered HTTP %1 (%2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The host %1 is unknown (DNS).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 refused the connection.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The TLS connection to %1 failed: %2. Onboarder always verifies the hub&apos;s certificate; for a sandbox or private hub, add its CA to the hub profile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 did not answer in time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not reach %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>KeyPair</name>
    <message>
        <source>Could not generate a %1 key: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The private key is encrypted; give its password.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The private key could not be decrypted: the password is wrong.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is not a PEM private key (&quot;-----BEGIN PRIVATE KEY-----&quot;): %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>other</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::AddHubDialog</name>
    <message>
        <source>Custom endpoint (sandbox or gateway)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add Hub</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste the connection string of one of the hub&apos;s shared access policies. In the Azure portal: IoT Hub → Security settings → Shared access policies → iothubowner → Primary connection string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. production</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show or hide the connection string</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste the connection string from the clipboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>443 (Azure)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>8883 (Azure)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trusted &amp;CA:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;REST port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;MQTT port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Connection string:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hide</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A hub named &quot;%1&quot; exists already.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is a %1 connection string. A hub needs a shared access policy&apos;s connection string, with SharedAccessKeyName.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub %1 on %2, policy %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving the key in the system keychain…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trusted CA certificate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PEM certificates (*.pem *.crt);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::ConnectionString</name>
    <message>
        <source>The GatewayHostName contains a character that is not allowed at position %1. Only ASCII letters, digits and _ - . are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The GatewayHostName has an empty part: it must not start or end with a dot, nor contain two dots in a row.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string holds only white space.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string starts or ends with white space. Copy it again without the spaces or line breaks around it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Part %1 of the connection string is empty. Parts are Key=Value, separated by a single &quot;;&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Part %1 of the connection string has no &quot;=&quot;. Every part must be Key=Value.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Part %1 of the connection string has no key before its &quot;=&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Part %1 of the connection string has white space around its key. Remove the spaces.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The key &quot;%1&quot; in part %2 of the connection string has white space around it. Remove the spaces.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has an unknown key &quot;%1&quot;. Did you mean %2? Keys are case-sensitive.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Part %1 of the connection string is not a known Key=Value pair. Known keys are HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, x509 and GatewayHostName.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has an unknown key &quot;%1&quot;. Known keys are HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, x509 and GatewayHostName.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The key %1 appears more than once in the connection string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The key %1 has no value after its &quot;=&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The value of %1 starts or ends with white space. Remove the spaces.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has no HostName, for example HostName=myhub.azure-devices.net.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has a ModuleId but no DeviceId. A module connection string needs the DeviceId of the module&apos;s device as well.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The only value x509 accepts is &quot;true&quot;, exactly and in lower case.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has SharedAccessKey, SharedAccessSignature and x509=true. It can carry only one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has both %1 and %2. It can carry only one of them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has x509=true but no DeviceId. X.509 authentication belongs to a device or module connection string.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has no credential. A hub connection string needs SharedAccessKeyName and SharedAccessKey; a device connection string needs DeviceId and one of SharedAccessKey, SharedAccessSignature or x509=true.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string has %1 but neither SharedAccessKeyName (for a hub&apos;s shared access policy) nor DeviceId (for a device).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection string names a shared access policy (SharedAccessKeyName) but has no SharedAccessKey for it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GatewayHostName belongs to a device or module connection string; a hub connection string (one without DeviceId) cannot have it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device connection string has no credential. Add one of SharedAccessKey, SharedAccessSignature or x509=true.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The SharedAccessKey is not valid base64. It may be cut off or have extra characters; copy it again from the portal.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The SharedAccessSignature is not a valid token. %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hub (shared access policy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>module</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::HubListModel</name>
    <message>
        <source>Azure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST %1 · MQTT %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST %1 · MQTT %2 · own CA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trusts the CA in %1 for this hub</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The current hub: commands without --hub work on it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Host</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Access policy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::HubStore</name>
    <message>
        <source>The %1 port must be between 1 and 65535 (0 for the default); %2 is not.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A hub named &quot;%1&quot; exists already. Choose another name or remove that hub first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is a %1 connection string. A hub needs the connection string of a shared access policy (HostName, SharedAccessKeyName and SharedAccessKey), e.g. iothubowner&apos;s from the Azure portal: IoT Hub → Shared access policies.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>REST</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MQTT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The CA file %1 does not exist or cannot be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The CA file %1 holds no PEM certificate.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The settings file %1 could not be written, so the hub was not added.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no hub named &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub &quot;%1&quot; was kept because its key could not be removed from the keychain: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub&apos;s key was removed from the keychain, but the settings file %1 could not be written, so the hub is still listed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The keychain has no connection string for hub &quot;%1&quot;. Remove the hub and add it again.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::HubsPage</name>
    <message>
        <source>Add Hub…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Make Current</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hubs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The IoT hubs this computer works with. Their connection strings are kept in the system keychain, never in files.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pages and command-line calls without --hub work on the current hub</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No hubs yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add a hub by pasting the connection string of one of its shared access policies (for example iothubowner), from the Azure portal or from the sandbox hub.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a hub to see where its key is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 · %2 · REST port %3 · MQTT port %4 · key in the keychain as &quot;%5&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · trusts %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added hub &quot;%1&quot;; its key is in the system keychain.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove Hub</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove the hub &quot;%1&quot; from this computer?

Its connection string is deleted from the keychain. The hub and its devices in Azure are not touched.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removed hub &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is now the current hub.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::Identifiers</name>
    <message>
        <source>The device ID is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device ID is %1 characters long; at most %2 are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device ID contains %1 at position %2. Only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ &apos; are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The module ID is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The module ID is %1 characters long; at most %2 are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The module ID contains %1 at position %2. Only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ &apos; are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The shared access policy name is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The shared access policy name is %1 characters long; at most %2 are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The shared access policy name contains %1 at position %2. Only ASCII letters, digits and _ - @ . are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The host name is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The host name is %1 characters long; at most %2 are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The host name contains %1 at position %2. Only ASCII letters, digits and _ - . are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub name is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub name is %1 characters long; at most %2 are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub name contains %1 at position %2. Only ASCII letters, digits and . _ - are allowed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The hub name starts with %1; it must start with an ASCII letter or digit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The host name has no dot. It must be the hub&apos;s full name, for example myhub.azure-devices.net.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The host name has an empty part: it must not start or end with a dot, nor contain two dots in a row.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::MainWindow</name>
    <message>
        <source>Pages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hubs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add Hub…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Onboarder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Onboarder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 — Onboarder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About Onboarder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Onboarder %1&lt;/h3&gt;&lt;p&gt;Onboards and monitors Azure IoT Hub devices: registers them, gives them credentials, writes those into nRF91 modems and relays their telemetry.&lt;/p&gt;&lt;p&gt;Keys and connection strings are kept in the system keychain only.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::SasToken</name>
    <message>
        <source>The resource URI of the token is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The expiry of the token must be seconds since 1970, not a negative number.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The shared access key is not valid base64. A key is base64 text such as the Azure portal shows, usually 44 characters ending in &quot;=&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is not a Shared Access Signature token. A token starts with &quot;SharedAccessSignature &quot; followed by the fields sr, sig and se, separated by &quot;&amp;&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token contains white space after &quot;SharedAccessSignature &quot;; a token has exactly one space, after that word.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Field %1 of the token is empty; fields are separated by a single &quot;&amp;&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Field %1 of the token is not of the form name=value.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Field %1 of the token is unknown; only sr, sig, se and skn are allowed (in lower case).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token has an unknown field &quot;%1&quot;; only sr, sig, se and skn are allowed (in lower case).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token has the field &quot;%1&quot; more than once.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The field &quot;%1&quot; of the token is empty.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The field &quot;%1&quot; of the token has a &quot;%&quot; that is not followed by two hex digits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token has no field &quot;%1&quot;; sr, sig and se are required.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The expiry (se) of the token must be whole seconds since 1970, written as decimal digits without sign or leading zeros.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Onboarder::SecretStore</name>
    <message>
        <source>The keychain has no entry named &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The system keychain refused access (%1). Unlock it and try again; nothing was stored elsewhere.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No system keychain is available (%1). Onboarder keeps keys only in the keychain (GNOME Keyring, KWallet or another Secret Service), so nothing was stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The system keychain failed: %1. Onboarder keeps keys only in the keychain, so nothing was stored elsewhere.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be used as a keychain entry name.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Onboard and monitor Azure IoT Hub devices.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
