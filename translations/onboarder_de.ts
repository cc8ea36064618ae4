<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>Certificate</name>
    <message>
        <source>A certificate&apos;s common name must have 1 to 64 characters.</source>
        <translation>Der allgemeine Name (CN) eines Zertifikats muss 1 bis 64 Zeichen lang sein.</translation>
    </message>
    <message>
        <source>A certificate must be valid for 1 to 36500 days.</source>
        <translation>Ein Zertifikat muss 1 bis 36500 Tage gültig sein.</translation>
    </message>
    <message>
        <source>Could not create the certificate for &quot;%1&quot;: %2</source>
        <translation>Das Zertifikat für „%1“ konnte nicht erstellt werden: %2</translation>
    </message>
    <message>
        <source>This is not a PEM certificate: there is no &quot;-----BEGIN CERTIFICATE-----&quot; line.</source>
        <translation>Das ist kein PEM-Zertifikat: Die Zeile „-----BEGIN CERTIFICATE-----“ fehlt.</translation>
    </message>
    <message>
        <source>The PEM certificate is damaged: its base64 body or its structure cannot be read.</source>
        <translation>Das PEM-Zertifikat ist beschädigt: Sein Base64-Inhalt oder seine Struktur ist nicht lesbar.</translation>
    </message>
    <message>
        <source>The DER certificate cannot be read: %1</source>
        <translation>Das DER-Zertifikat kann nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a CA certificate, so it cannot sign others.</source>
        <translation>„%1“ ist kein CA-Zertifikat und kann daher keine anderen Zertifikate signieren.</translation>
    </message>
    <message>
        <source>The CA&apos;s private key does not belong to the CA certificate &quot;%1&quot;.</source>
        <translation>Der private Schlüssel der CA gehört nicht zum CA-Zertifikat „%1“.</translation>
    </message>
    <message>
        <source>There is no certificate signing request to sign.</source>
        <translation>Es gibt keine Zertifikatsanforderung zum Signieren.</translation>
    </message>
    <message>
        <source>The certificate signing request&apos;s signature does not verify with its own public key, so whoever made it may not hold the private key.</source>
        <translation>Die Signatur der Zertifikatsanforderung lässt sich mit ihrem eigenen öffentlichen Schlüssel nicht prüfen; wer sie erstellt hat, besitzt womöglich nicht den privaten Schlüssel.</translation>
    </message>
    <message>
        <source>The certificate &quot;%1&quot; is not valid yet: its validity starts %2 (UTC).</source>
        <translation>Das Zertifikat „%1“ ist noch nicht gültig: Seine Gültigkeit beginnt am %2 (UTC).</translation>
    </message>
    <message>
        <source>The certificate &quot;%1&quot; expired %2 (UTC).</source>
        <translation>Das Zertifikat „%1“ ist am %2 (UTC) abgelaufen.</translation>
    </message>
    <message>
        <source>The private key does not belong to the certificate &quot;%1&quot;: their public keys differ.</source>
        <translation>Der private Schlüssel gehört nicht zum Zertifikat „%1“: Ihre öffentlichen Schlüssel unterscheiden sich.</translation>
    </message>
</context>
<context>
    <name>CertificateAuthority</name>
    <message>
        <source>&quot;%1&quot; is not a CA certificate (it lacks basicConstraints CA:TRUE or keyCertSign), so it cannot sign device certificates.</source>
        <translation>„%1“ ist kein CA-Zertifikat (basicConstraints CA:TRUE oder keyCertSign fehlt) und kann daher keine Gerätezertifikate signieren.</translation>
    </message>
    <message>
        <source>No CA was loaded to sign with.</source>
        <translation>Es wurde keine CA zum Signieren geladen.</translation>
    </message>
</context>
<context>
    <name>CertificateRequest</name>
    <message>
        <source>A certificate&apos;s common name must have 1 to 64 characters.</source>
        <translation>Der allgemeine Name (CN) eines Zertifikats muss 1 bis 64 Zeichen lang sein.</translation>
    </message>
    <message>
        <source>There is no key to make the request for.</source>
        <translation>Es gibt keinen Schlüssel, für den die Anforderung erstellt werden kann.</translation>
    </message>
    <message>
        <source>Could not create the certificate signing request for &quot;%1&quot;: %2</source>
        <translation>Die Zertifikatsanforderung für „%1“ konnte nicht erstellt werden: %2</translation>
    </message>
    <message>
        <source>This is not a PEM certificate signing request: there is no &quot;-----BEGIN CERTIFICATE REQUEST-----&quot; line.</source>
        <translation>Das ist keine PEM-Zertifikatsanforderung: Die Zeile „-----BEGIN CERTIFICATE REQUEST-----“ fehlt.</translation>
    </message>
    <message>
        <source>The PEM certificate signing request is damaged: %1</source>
        <translation>Die PEM-Zertifikatsanforderung ist beschädigt: %1</translation>
    </message>
    <message>
        <source>The DER certificate signing request cannot be read: %1</source>
        <translation>Die DER-Zertifikatsanforderung kann nicht gelesen werden: %1</translation>
    </message>
</context>
<context>
    <name>Cli</name>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 ist nicht lesbar: %2</translation>
    </message>
    <message>
        <source>standard input</source>
        <translation>Standardeingabe</translation>
    </message>
    <message>
        <source>%1 is empty: give it on standard input or with --secret-file.</source>
        <translation>%1 ist leer: über die Standardeingabe oder mit --secret-file angeben.</translation>
    </message>
    <message>
        <source>Missing argument. See --help.</source>
        <translation>Ein Argument fehlt. Siehe --help.</translation>
    </message>
    <message>
        <source>Unexpected argument &quot;%1&quot;. See --help.</source>
        <translation>Unerwartetes Argument „%1“. Siehe --help.</translation>
    </message>
    <message>
        <source>--%1 takes a whole number from %2 to %3; &quot;%4&quot; is not one.</source>
        <translation>--%1 erwartet eine ganze Zahl von %2 bis %3; „%4“ ist keine.</translation>
    </message>
    <message>
        <source>Checks a connection string read from standard input (or --secret-file) and prints its fields, the key masked.</source>
        <translation>Prüft eine Verbindungszeichenfolge von der Standardeingabe (oder aus --secret-file) und gibt ihre Felder aus, den Schlüssel maskiert.</translation>
    </message>
    <message>
        <source>Print the key instead of a mask.</source>
        <translation>Den Schlüssel statt einer Maske ausgeben.</translation>
    </message>
    <message>
        <source>Read the connection string from FILE.</source>
        <translation>Die Verbindungszeichenfolge aus DATEI lesen.</translation>
    </message>
    <message>
        <source>FILE</source>
        <translation>DATEI</translation>
    </message>
    <message>
        <source>Connection string</source>
        <translation>Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>FIELD</source>
        <translation>FELD</translation>
    </message>
    <message>
        <source>VALUE</source>
        <translation>WERT</translation>
    </message>
    <message>
        <source>Prints a Shared Access Signature token for a resource URI. The base64 key is read from standard input or --secret-file.</source>
        <translation>Gibt ein SAS-Token (Shared Access Signature) für einen Ressourcen-URI aus. Der Base64-Schlüssel wird von der Standardeingabe oder aus --secret-file gelesen.</translation>
    </message>
    <message>
        <source>Resource URI, e.g. myhub.azure-devices.net/devices/dev1.</source>
        <translation>Ressourcen-URI, z. B. myhub.azure-devices.net/devices/dev1.</translation>
    </message>
    <message>
        <source>URI</source>
        <translation>URI</translation>
    </message>
    <message>
        <source>Shared access policy name (skn); leave out for a device key.</source>
        <translation>Name der freigegebenen Zugriffsrichtlinie (skn); für einen Geräteschlüssel weglassen.</translation>
    </message>
    <message>
        <source>NAME</source>
        <translation>NAME</translation>
    </message>
    <message>
        <source>Seconds from now until the token expires.</source>
        <translation>Sekunden ab jetzt, bis das Token abläuft.</translation>
    </message>
    <message>
        <source>SECONDS</source>
        <translation>SEKUNDEN</translation>
    </message>
    <message>
        <source>Absolute expiry in seconds since 1970 (instead of --ttl).</source>
        <translation>Absoluter Ablaufzeitpunkt in Sekunden seit 1970 (statt --ttl).</translation>
    </message>
    <message>
        <source>EPOCH</source>
        <translation>UNIXZEIT</translation>
    </message>
    <message>
        <source>Read the key from FILE.</source>
        <translation>Den Schlüssel aus DATEI lesen.</translation>
    </message>
    <message>
        <source>--uri is required.</source>
        <translation>--uri ist erforderlich.</translation>
    </message>
    <message>
        <source>Give exactly one of --ttl and --expiry.</source>
        <translation>Genau eine der Optionen --ttl und --expiry angeben.</translation>
    </message>
    <message>
        <source>Shared access key</source>
        <translation>Zugriffsschlüssel</translation>
    </message>
    <message>
        <source>Connection strings.</source>
        <translation>Verbindungszeichenfolgen.</translation>
    </message>
    <message>
        <source>Check a connection string and show its fields.</source>
        <translation>Eine Verbindungszeichenfolge prüfen und ihre Felder zeigen.</translation>
    </message>
    <message>
        <source>Shared Access Signature tokens.</source>
        <translation>SAS-Token (Shared Access Signature).</translation>
    </message>
    <message>
        <source>Create a token; key on standard input.</source>
        <translation>Ein Token erzeugen; Schlüssel über die Standardeingabe.</translation>
    </message>
    <message>
        <source>Azure defaults</source>
        <translation>Azure-Standardwerte</translation>
    </message>
    <message>
        <source>REST %1, MQTT %2</source>
        <translation>REST %1, MQTT %2</translation>
    </message>
    <message>
        <source>, own CA</source>
        <translation>, eigene CA</translation>
    </message>
    <message>
        <source>Adds a hub. The hub&apos;s connection string (a shared access policy&apos;s, e.g. iothubowner) is read from standard input or --secret-file and stored in the system keychain only.</source>
        <translation>Fügt einen Hub hinzu. Die Verbindungszeichenfolge des Hubs (die einer freigegebenen Zugriffsrichtlinie, z. B. iothubowner) wird von der Standardeingabe oder aus --secret-file gelesen und nur im Schlüsselbund des Systems gespeichert.</translation>
    </message>
    <message>
        <source>A local name for the hub.</source>
        <translation>Ein lokaler Name für den Hub.</translation>
    </message>
    <message>
        <source>Trust this CA certificate (PEM) for this hub only.</source>
        <translation>Diesem CA-Zertifikat (PEM) nur für diesen Hub vertrauen.</translation>
    </message>
    <message>
        <source>HTTPS port of the registry API (default 443).</source>
        <translation>HTTPS-Port der Registrierungs-API (Standard 443).</translation>
    </message>
    <message>
        <source>N</source>
        <translation>N</translation>
    </message>
    <message>
        <source>MQTT port of the device endpoint (default 8883).</source>
        <translation>MQTT-Port des Geräteendpunkts (Standard 8883).</translation>
    </message>
    <message>
        <source>Read the connection string from FILE instead of standard input.</source>
        <translation>Die Verbindungszeichenfolge aus DATEI statt von der Standardeingabe lesen.</translation>
    </message>
    <message>
        <source>Hub connection string</source>
        <translation>Verbindungszeichenfolge des Hubs</translation>
    </message>
    <message>
        <source>Added hub &quot;%1&quot; (%2, policy %3). Its key is in the system keychain.</source>
        <translation>Hub „%1“ hinzugefügt (%2, Richtlinie %3). Sein Schlüssel liegt im Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>Lists the hubs that were added.</source>
        <translation>Listet die hinzugefügten Hubs auf.</translation>
    </message>
    <message>
        <source>No hubs yet. Add one with: onboarder-cli hub add NAME &lt; connection-string-file</source>
        <translation>Noch keine Hubs. Einen hinzufügen mit: onboarder-cli hub add NAME &lt; datei-mit-verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>HOST</source>
        <translation>HOST</translation>
    </message>
    <message>
        <source>POLICY</source>
        <translation>RICHTLINIE</translation>
    </message>
    <message>
        <source>ENDPOINT</source>
        <translation>ENDPUNKT</translation>
    </message>
    <message>
        <source>Removes a hub from this computer: its profile and its key in the keychain. Nothing changes in the hub itself.</source>
        <translation>Entfernt einen Hub von diesem Computer: sein Profil und seinen Schlüssel im Schlüsselbund. Am Hub selbst ändert sich nichts.</translation>
    </message>
    <message>
        <source>The hub&apos;s local name.</source>
        <translation>Der lokale Name des Hubs.</translation>
    </message>
    <message>
        <source>Removed hub &quot;%1&quot;.</source>
        <translation>Hub „%1“ entfernt.</translation>
    </message>
    <message>
        <source>Hubs this computer knows (connection strings in the keychain).</source>
        <translation>Hubs, die dieser Computer kennt (Verbindungszeichenfolgen im Schlüsselbund).</translation>
    </message>
    <message>
        <source>Add a hub; connection string on standard input.</source>
        <translation>Einen Hub hinzufügen; Verbindungszeichenfolge über die Standardeingabe.</translation>
    </message>
    <message>
        <source>List hubs.</source>
        <translation>Hubs auflisten.</translation>
    </message>
    <message>
        <source>Remove a hub and its key.</source>
        <translation>Einen Hub und seinen Schlüssel entfernen.</translation>
    </message>
    <message>
        <source>Usage: onboarder-cli [--hub NAME] [--json] &lt;noun&gt; &lt;verb&gt; [arguments]

Onboard and monitor Azure IoT Hub devices. Secrets are read from standard input or a file, never from arguments.

Commands:
</source>
        <translation>Aufruf: onboarder-cli [--hub NAME] [--json] &lt;Bereich&gt; &lt;Aktion&gt; [Argumente]

Geräte für Azure IoT Hub einrichten und überwachen. Geheimnisse werden von der Standardeingabe oder aus einer Datei gelesen, nie aus Argumenten.

Befehle:
</translation>
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
        <translation>
Globale Optionen:
  --hub NAME   der Hub, mit dem gearbeitet wird (Standard: der aktuelle)
  --json       JSON auf der Standardausgabe ausgeben
  --version    die Version ausgeben
  --help       dieser Text; auch nach einem Bereich oder einer Aktion

Exit-Codes: 0 ok, 1 Aufruf, 2 ungültige Eingabe, 3 nicht gefunden, 4 Konflikt, 5 Authentifizierung abgelehnt, 6 Netzwerk, 7 Gerät, 8 Schlüsselbund nicht verfügbar, 10 intern.
</translation>
    </message>
    <message>
        <source>Usage: onboarder-cli %1 &lt;verb&gt; [arguments]

%2

Verbs:
</source>
        <translation>Aufruf: onboarder-cli %1 &lt;Aktion&gt; [Argumente]

%2

Aktionen:
</translation>
    </message>
    <message>
        <source>Unknown option %1. See --help.</source>
        <translation>Unbekannte Option %1. Siehe --help.</translation>
    </message>
    <message>
        <source>Unknown command &quot;%1&quot;. See --help.</source>
        <translation>Unbekannter Befehl „%1“. Siehe --help.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; has no verb &quot;%2&quot;. See onboarder-cli %1 --help.</source>
        <translation>„%1“ kennt keine Aktion „%2“. Siehe onboarder-cli %1 --help.</translation>
    </message>
    <message>
        <source>Makes a hub the current one: commands without --hub, and the app, work on it.</source>
        <translation>Macht einen Hub zum aktuellen: Befehle ohne --hub und die App arbeiten mit ihm.</translation>
    </message>
    <message>
        <source>There is no hub named &quot;%1&quot;.</source>
        <translation>Es gibt keinen Hub namens „%1“.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is now the current hub.</source>
        <translation>„%1“ ist jetzt der aktuelle Hub.</translation>
    </message>
    <message>
        <source>Make a hub the current one.</source>
        <translation>Einen Hub zum aktuellen machen.</translation>
    </message>
    <message>
        <source>No hub chosen: give --hub NAME, or make one current with onboarder-cli hub use NAME.</source>
        <translation>Kein Hub gewählt: --hub NAME angeben oder mit onboarder-cli hub use NAME einen Hub zum aktuellen machen.</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>Lists devices of the hub, page by page, as the hub&apos;s query returns them.</source>
        <translation>Listet die Geräte des Hubs auf, Seite für Seite, so wie die Abfrage des Hubs sie liefert.</translation>
    </message>
    <message>
        <source>An IoT Hub query (default: SELECT * FROM devices).</source>
        <translation>Eine Abfrage in der IoT Hub-Abfragesprache (Standard: SELECT * FROM devices).</translation>
    </message>
    <message>
        <source>SQL</source>
        <translation>SQL</translation>
    </message>
    <message>
        <source>At most N devices (default 1000).</source>
        <translation>Höchstens N Geräte (Standard 1000).</translation>
    </message>
    <message>
        <source>Comma-separated values instead of a table.</source>
        <translation>Kommagetrennte Werte (CSV) statt einer Tabelle.</translation>
    </message>
    <message>
        <source>DEVICE</source>
        <translation>GERÄT</translation>
    </message>
    <message>
        <source>STATUS</source>
        <translation>STATUS</translation>
    </message>
    <message>
        <source>CONNECTION</source>
        <translation>VERBINDUNG</translation>
    </message>
    <message>
        <source>LAST ACTIVITY</source>
        <translation>LETZTE AKTIVITÄT</translation>
    </message>
    <message>
        <source>AUTH</source>
        <translation>AUTH</translation>
    </message>
    <message>
        <source>C2D QUEUED</source>
        <translation>C2D WARTEND</translation>
    </message>
    <message>
        <source>Registers a device in the hub. SAS keys are generated by the hub; a self-signed X.509 device needs its certificate (--cert) or thumbprint (--thumbprint).</source>
        <translation>Registriert ein Gerät im Hub. SAS-Schlüssel erzeugt der Hub; ein Gerät mit selbstsigniertem X.509-Zertifikat braucht sein Zertifikat (--cert) oder dessen Fingerabdruck (--thumbprint).</translation>
    </message>
    <message>
        <source>The device id.</source>
        <translation>Die Geräte-ID.</translation>
    </message>
    <message>
        <source>sas (default), x509-self-signed or x509-ca.</source>
        <translation>sas (Standard), x509-self-signed oder x509-ca.</translation>
    </message>
    <message>
        <source>TYPE</source>
        <translation>TYP</translation>
    </message>
    <message>
        <source>Register it disabled.</source>
        <translation>Deaktiviert registrieren.</translation>
    </message>
    <message>
        <source>The device&apos;s certificate (PEM), for x509-self-signed.</source>
        <translation>Das Zertifikat des Geräts (PEM), für x509-self-signed.</translation>
    </message>
    <message>
        <source>The certificate&apos;s SHA-1 or SHA-256 thumbprint, for x509-self-signed.</source>
        <translation>Der SHA-1- oder SHA-256-Fingerabdruck des Zertifikats, für x509-self-signed.</translation>
    </message>
    <message>
        <source>HEX</source>
        <translation>HEX</translation>
    </message>
    <message>
        <source>A self-signed device needs --cert FILE or --thumbprint with 40 (SHA-1) or 64 (SHA-256) hex digits.</source>
        <translation>Ein selbstsigniertes Gerät braucht --cert DATEI oder --thumbprint mit 40 (SHA-1) oder 64 (SHA-256) Hexadezimalziffern.</translation>
    </message>
    <message>
        <source>--auth is sas, x509-self-signed or x509-ca, not &quot;%1&quot;.</source>
        <translation>--auth ist sas, x509-self-signed oder x509-ca, nicht „%1“.</translation>
    </message>
    <message>
        <source>Registered device &quot;%1&quot; (%2, %3).</source>
        <translation>Gerät „%1“ registriert (%2, %3).</translation>
    </message>
    <message>
        <source>Shows a device&apos;s identity: status, connection, last activity, authentication (keys masked).</source>
        <translation>Zeigt die Identität eines Geräts: Status, Verbindung, letzte Aktivität, Authentifizierung (Schlüssel maskiert).</translation>
    </message>
    <message>
        <source>Show the symmetric keys.</source>
        <translation>Die symmetrischen Schlüssel zeigen.</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <source>Last activity</source>
        <translation>Letzte Aktivität</translation>
    </message>
    <message>
        <source>Authentication</source>
        <translation>Authentifizierung</translation>
    </message>
    <message>
        <source>Queued C2D messages</source>
        <translation>Wartende C2D-Nachrichten</translation>
    </message>
    <message>
        <source>ETag</source>
        <translation>ETag</translation>
    </message>
    <message>
        <source>Primary key</source>
        <translation>Primärer Schlüssel</translation>
    </message>
    <message>
        <source>Secondary key</source>
        <translation>Sekundärer Schlüssel</translation>
    </message>
    <message>
        <source>Primary thumbprint</source>
        <translation>Primärer Fingerabdruck</translation>
    </message>
    <message>
        <source>Secondary thumbprint</source>
        <translation>Sekundärer Fingerabdruck</translation>
    </message>
    <message>
        <source>Deletes a device from the hub, with its keys and twin. Asks first unless --yes.</source>
        <translation>Löscht ein Gerät samt Schlüsseln und Zwilling aus dem Hub. Fragt vorher nach, außer mit --yes.</translation>
    </message>
    <message>
        <source>Do not ask.</source>
        <translation>Nicht nachfragen.</translation>
    </message>
    <message>
        <source>Deleting &quot;%1&quot; needs --yes when there is no terminal to ask on.</source>
        <translation>Ohne Terminal für die Rückfrage braucht das Löschen von „%1“ die Option --yes.</translation>
    </message>
    <message>
        <source>Delete device &quot;%1&quot; from hub &quot;%2&quot;? [y/N] </source>
        <translation>Gerät „%1“ aus dem Hub „%2“ löschen? (y = ja) [y/N] </translation>
    </message>
    <message>
        <source>Nothing was deleted.</source>
        <translation>Es wurde nichts gelöscht.</translation>
    </message>
    <message>
        <source>Deleted device &quot;%1&quot;.</source>
        <translation>Gerät „%1“ gelöscht.</translation>
    </message>
    <message>
        <source>Enables a device: it may connect again.</source>
        <translation>Aktiviert ein Gerät: Es darf sich wieder verbinden.</translation>
    </message>
    <message>
        <source>Disables a device: the hub refuses its connections.</source>
        <translation>Deaktiviert ein Gerät: Der Hub lehnt seine Verbindungen ab.</translation>
    </message>
    <message>
        <source>Device &quot;%1&quot; is %2.</source>
        <translation>Gerät „%1“: Status %2.</translation>
    </message>
    <message>
        <source>Prints a device&apos;s connection string, its key masked unless --reveal.</source>
        <translation>Gibt die Verbindungszeichenfolge eines Geräts aus, den Schlüssel maskiert, außer mit --reveal.</translation>
    </message>
    <message>
        <source>With the secondary key.</source>
        <translation>Mit dem sekundären Schlüssel.</translation>
    </message>
    <message>
        <source>Print the key itself (mind who sees your terminal).</source>
        <translation>Den Schlüssel selbst ausgeben (achten Sie darauf, wer Ihr Terminal sieht).</translation>
    </message>
    <message>
        <source>The device &quot;%1&quot; has no authentication, so it has no connection string.</source>
        <translation>Das Gerät „%1“ hat keine Authentifizierung und daher keine Verbindungszeichenfolge.</translation>
    </message>
    <message>
        <source>Prints a device&apos;s twin as JSON (tags, desired and reported properties).</source>
        <translation>Gibt den Zwilling eines Geräts als JSON aus (Tags, gewünschte und gemeldete Eigenschaften).</translation>
    </message>
    <message>
        <source>Patches a device&apos;s twin with the JSON read from standard input, e.g. {&quot;tags&quot;:{&quot;site&quot;:&quot;bench-1&quot;},&quot;properties&quot;:{&quot;desired&quot;:{&quot;interval&quot;:30}}}; null removes a key.</source>
        <translation>Ändert den Zwilling eines Geräts mit dem JSON von der Standardeingabe, z. B. {&quot;tags&quot;:{&quot;site&quot;:&quot;bench-1&quot;},&quot;properties&quot;:{&quot;desired&quot;:{&quot;interval&quot;:30}}}; null entfernt einen Schlüssel.</translation>
    </message>
    <message>
        <source>Apply only if the twin still has this ETag.</source>
        <translation>Nur anwenden, wenn der Zwilling noch dieses ETag hat.</translation>
    </message>
    <message>
        <source>ETAG</source>
        <translation>ETAG</translation>
    </message>
    <message>
        <source>Read the JSON from FILE.</source>
        <translation>Das JSON aus DATEI lesen.</translation>
    </message>
    <message>
        <source>The patch is not valid JSON: %1 at character %2.</source>
        <translation>Die Änderung ist kein gültiges JSON: %1 bei Zeichen %2.</translation>
    </message>
    <message>
        <source>The patch must be a JSON object.</source>
        <translation>Die Änderung muss ein JSON-Objekt sein.</translation>
    </message>
    <message>
        <source>Twin updated; its ETag is now %1.</source>
        <translation>Zwilling aktualisiert; sein ETag ist jetzt %1.</translation>
    </message>
    <message>
        <source>Invokes a direct method on a connected device and prints its status and payload.</source>
        <translation>Ruft eine direkte Methode auf einem verbundenen Gerät auf und gibt ihren Status und ihre Nutzdaten aus.</translation>
    </message>
    <message>
        <source>The method&apos;s name.</source>
        <translation>Der Name der Methode.</translation>
    </message>
    <message>
        <source>JSON payload (default null).</source>
        <translation>JSON-Nutzdaten (Standard null).</translation>
    </message>
    <message>
        <source>JSON</source>
        <translation>JSON</translation>
    </message>
    <message>
        <source>Seconds to wait for the device&apos;s answer (5–300, default 30).</source>
        <translation>Sekunden, die auf die Antwort des Geräts gewartet wird (5–300, Standard 30).</translation>
    </message>
    <message>
        <source>S</source>
        <translation>S</translation>
    </message>
    <message>
        <source>--payload is not valid JSON: %1.</source>
        <translation>--payload ist kein gültiges JSON: %1.</translation>
    </message>
    <message>
        <source>status %1</source>
        <translation>Status %1</translation>
    </message>
    <message>
        <source>Devices of the hub (--hub NAME, or the current hub).</source>
        <translation>Geräte des Hubs (--hub NAME oder der aktuelle Hub).</translation>
    </message>
    <message>
        <source>List devices; --query, --top, --csv.</source>
        <translation>Geräte auflisten; --query, --top, --csv.</translation>
    </message>
    <message>
        <source>Register a device.</source>
        <translation>Ein Gerät registrieren.</translation>
    </message>
    <message>
        <source>Show a device&apos;s identity.</source>
        <translation>Die Identität eines Geräts zeigen.</translation>
    </message>
    <message>
        <source>Delete a device.</source>
        <translation>Ein Gerät löschen.</translation>
    </message>
    <message>
        <source>Enable a device.</source>
        <translation>Ein Gerät aktivieren.</translation>
    </message>
    <message>
        <source>Disable a device.</source>
        <translation>Ein Gerät deaktivieren.</translation>
    </message>
    <message>
        <source>Print a device&apos;s connection string.</source>
        <translation>Die Verbindungszeichenfolge eines Geräts ausgeben.</translation>
    </message>
    <message>
        <source>Device twins.</source>
        <translation>Gerätezwillinge.</translation>
    </message>
    <message>
        <source>Print a twin.</source>
        <translation>Einen Zwilling ausgeben.</translation>
    </message>
    <message>
        <source>Patch a twin; JSON on standard input.</source>
        <translation>Einen Zwilling ändern; JSON über die Standardeingabe.</translation>
    </message>
    <message>
        <source>Direct methods.</source>
        <translation>Direkte Methoden.</translation>
    </message>
    <message>
        <source>Invoke a direct method.</source>
        <translation>Eine direkte Methode aufrufen.</translation>
    </message>
    <message>
        <source>Answers a support call&apos;s first questions about a device: registered? enabled? connected? last activity? reported properties? and, with --ping, does it answer the direct method &quot;ping&quot;?</source>
        <translation>Beantwortet die ersten Fragen eines Supportfalls zu einem Gerät: registriert? aktiviert? verbunden? letzte Aktivität? gemeldete Eigenschaften? und mit --ping: antwortet es auf die direkte Methode „ping“?</translation>
    </message>
    <message>
        <source>Also invoke the direct method &quot;ping&quot;.</source>
        <translation>Zusätzlich die direkte Methode „ping“ aufrufen.</translation>
    </message>
    <message>
        <source>Seconds to wait for the ping&apos;s answer (5–300, default 10).</source>
        <translation>Sekunden, die auf die Antwort auf „ping“ gewartet wird (5–300, Standard 10).</translation>
    </message>
    <message>
        <source>VERDICT</source>
        <translation>BEFUND</translation>
    </message>
    <message>
        <source>WHAT</source>
        <translation>WAS</translation>
    </message>
    <message>
        <source>Check a device: registered, enabled, connected, active, answering.</source>
        <translation>Ein Gerät prüfen: registriert, aktiviert, verbunden, aktiv, antwortet.</translation>
    </message>
</context>
<context>
    <name>CredentialInventory</name>
    <message>
        <source>The credential inventory %1 cannot be read: %2</source>
        <translation>Das Verzeichnis der Anmeldedaten %1 ist nicht lesbar: %2</translation>
    </message>
    <message>
        <source>The credential inventory %1 is damaged (%2). Move it aside to start a new one; the keys in the keychain are not affected.</source>
        <translation>Das Verzeichnis der Anmeldedaten %1 ist beschädigt (%2). Verschieben Sie es, um ein neues zu beginnen; die Schlüssel im Schlüsselbund sind nicht betroffen.</translation>
    </message>
    <message>
        <source>The credential inventory %1 was written by a newer Onboarder.</source>
        <translation>Das Verzeichnis der Anmeldedaten %1 wurde von einem neueren Onboarder geschrieben.</translation>
    </message>
    <message>
        <source>The credential inventory %1 is locked by another Onboarder for more than 10 s.</source>
        <translation>Das Verzeichnis der Anmeldedaten %1 ist seit mehr als 10 s von einem anderen Onboarder gesperrt.</translation>
    </message>
    <message>
        <source>The credential inventory %1 cannot be written: %2</source>
        <translation>Das Verzeichnis der Anmeldedaten %1 kann nicht geschrieben werden: %2</translation>
    </message>
</context>
<context>
    <name>DeviceCheck</name>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>just now</source>
        <translation>gerade eben</translation>
    </message>
    <message>
        <source>Not registered: the hub has no device &quot;%1&quot;.</source>
        <translation>Nicht registriert: Der Hub hat kein Gerät „%1“.</translation>
    </message>
    <message>
        <source>Registered (%1 authentication).</source>
        <translation>Registriert (Authentifizierung: %1).</translation>
    </message>
    <message>
        <source>Enabled.</source>
        <translation>Aktiviert.</translation>
    </message>
    <message>
        <source>Disabled: the hub refuses its connections%1.</source>
        <translation>Deaktiviert: Der Hub lehnt seine Verbindungen ab%1.</translation>
    </message>
    <message>
        <source>Connected since %1.</source>
        <translation>Verbunden seit: %1.</translation>
    </message>
    <message>
        <source>Not connected since %1.</source>
        <translation>Nicht verbunden seit: %1.</translation>
    </message>
    <message>
        <source>Not connected, and never has been.</source>
        <translation>Nicht verbunden und war es noch nie.</translation>
    </message>
    <message>
        <source>Last activity %1.</source>
        <translation>Letzte Aktivität: %1.</translation>
    </message>
    <message>
        <source>No activity ever: it has never connected.</source>
        <translation>Noch nie aktiv: Es hat sich noch nie verbunden.</translation>
    </message>
    <message>
        <source>The twin could not be read: %1</source>
        <translation>Der Zwilling konnte nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>Reported properties last updated %1.</source>
        <translation>Gemeldete Eigenschaften zuletzt aktualisiert: %1.</translation>
    </message>
    <message>
        <source>The device has never reported properties.</source>
        <translation>Das Gerät hat noch nie Eigenschaften gemeldet.</translation>
    </message>
    <message>
        <source>Not pinged: it is not connected.</source>
        <translation>Kein „ping“: Das Gerät ist nicht verbunden.</translation>
    </message>
    <message>
        <source>Answered the ping with status %1 in %2 ms.</source>
        <translation>Hat „ping“ mit Status %1 in %2 ms beantwortet.</translation>
    </message>
    <message>
        <source>The ping failed: %1</source>
        <translation>„ping“ ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>a minute ago</source>
        <translation>vor einer Minute</translation>
    </message>
    <message>
        <source>%1 minutes ago</source>
        <translation>vor %1 Minuten</translation>
    </message>
    <message>
        <source>an hour ago</source>
        <translation>vor einer Stunde</translation>
    </message>
    <message>
        <source>%1 hours ago</source>
        <translation>vor %1 Stunden</translation>
    </message>
    <message>
        <source>a day ago</source>
        <translation>vor einem Tag</translation>
    </message>
    <message>
        <source>%1 days ago</source>
        <translation>vor %1 Tagen</translation>
    </message>
    <message>
        <source>Did not answer the ping within %1 seconds.</source>
        <translation>Hat „ping“ nicht innerhalb von %1 Sekunden beantwortet.</translation>
    </message>
    <message>
        <source>Not asked to answer a ping.</source>
        <translation>Nicht um eine Ping-Antwort gebeten.</translation>
    </message>
</context>
<context>
    <name>DeviceDraft</name>
    <message>
        <source>Enter a key, or let the hub generate them.</source>
        <translation>Geben Sie einen Schlüssel ein oder lassen Sie den Hub sie erzeugen.</translation>
    </message>
    <message>
        <source>A key is base64 text (letters, digits, + / and = at the end).</source>
        <translation>Ein Schlüssel ist Base64-Text (Buchstaben, Ziffern, + / und = am Ende).</translation>
    </message>
    <message>
        <source>A key must be 16 to 64 bytes long; this one is %1 bytes.</source>
        <translation>Ein Schlüssel muss 16 bis 64 Bytes lang sein; dieser hat %1 Bytes.</translation>
    </message>
    <message>
        <source>Enter the certificate&apos;s thumbprint, or take it from the certificate file.</source>
        <translation>Geben Sie den Fingerabdruck des Zertifikats ein oder übernehmen Sie ihn aus der Zertifikatsdatei.</translation>
    </message>
    <message>
        <source>A thumbprint is hexadecimal digits only (0–9, A–F), without colons or spaces.</source>
        <translation>Ein Fingerabdruck besteht nur aus Hexadezimalziffern (0–9, A–F), ohne Doppelpunkte oder Leerzeichen.</translation>
    </message>
    <message>
        <source>A thumbprint has 40 digits (SHA-1) or 64 digits (SHA-256); this one has %1.</source>
        <translation>Ein Fingerabdruck hat 40 Ziffern (SHA-1) oder 64 Ziffern (SHA-256); dieser hat %1.</translation>
    </message>
    <message>
        <source>Use a different key than the primary one, so that either can be replaced without cutting the device off.</source>
        <translation>Verwenden Sie einen anderen Schlüssel als den primären, damit jeder ausgetauscht werden kann, ohne das Gerät auszusperren.</translation>
    </message>
    <message>
        <source>Cannot read %1: %2.</source>
        <translation>%1 ist nicht lesbar: %2.</translation>
    </message>
</context>
<context>
    <name>HubClient</name>
    <message>
        <source>The hub refused the request as invalid (%1).</source>
        <translation>Der Hub hat die Anfrage als ungültig abgelehnt (%1).</translation>
    </message>
    <message>
        <source>The hub refused the credentials: check that the hub&apos;s connection string is current and its policy has the rights this needs.</source>
        <translation>Der Hub hat die Anmeldedaten abgelehnt: Prüfen Sie, ob die Verbindungszeichenfolge des Hubs aktuell ist und ihre Richtlinie die nötigen Rechte hat.</translation>
    </message>
    <message>
        <source>The device %1 is not connected, so it cannot answer.</source>
        <translation>Das Gerät %1 ist nicht verbunden und kann daher nicht antworten.</translation>
    </message>
    <message>
        <source>The hub has no device %1.</source>
        <translation>Der Hub hat kein Gerät %1.</translation>
    </message>
    <message>
        <source>The device %1 exists already.</source>
        <translation>Das Gerät %1 existiert bereits.</translation>
    </message>
    <message>
        <source>%1 was changed by someone else since it was read. Reload it and try again.</source>
        <translation>%1 wurde seit dem Lesen von jemand anderem geändert. Laden Sie es neu und versuchen Sie es noch einmal.</translation>
    </message>
    <message>
        <source>The hub is throttling requests and still was after several tries; wait a minute.</source>
        <translation>Der Hub drosselt Anfragen und tat es auch nach mehreren Versuchen noch; warten Sie eine Minute.</translation>
    </message>
    <message>
        <source>The device %1 did not answer in time.</source>
        <translation>Das Gerät %1 hat nicht rechtzeitig geantwortet.</translation>
    </message>
    <message>
        <source>The hub answered HTTP %1 (%2).</source>
        <translation>Der Hub hat mit HTTP %1 geantwortet (%2).</translation>
    </message>
    <message>
        <source>The host %1 is unknown (DNS).</source>
        <translation>Der Host %1 ist unbekannt (DNS).</translation>
    </message>
    <message>
        <source>%1 refused the connection.</source>
        <translation>%1 hat die Verbindung abgelehnt.</translation>
    </message>
    <message>
        <source>The TLS connection to %1 failed: %2. Onboarder always verifies the hub&apos;s certificate; for a sandbox or private hub, add its CA to the hub profile.</source>
        <translation>Die TLS-Verbindung zu %1 ist fehlgeschlagen: %2. Onboarder prüft das Zertifikat des Hubs immer; für eine Sandbox oder einen privaten Hub fügen Sie dessen CA zum Hub-Profil hinzu.</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Abgebrochen.</translation>
    </message>
    <message>
        <source>%1 did not answer in time.</source>
        <translation>%1 hat nicht rechtzeitig geantwortet.</translation>
    </message>
    <message>
        <source>Could not reach %1: %2</source>
        <translation>%1 ist nicht erreichbar: %2</translation>
    </message>
</context>
<context>
    <name>KeyPair</name>
    <message>
        <source>Could not generate a %1 key: %2</source>
        <translation>Ein Schlüssel (%1) konnte nicht erzeugt werden: %2</translation>
    </message>
    <message>
        <source>The private key is encrypted; give its password.</source>
        <translation>Der private Schlüssel ist verschlüsselt; geben Sie sein Passwort an.</translation>
    </message>
    <message>
        <source>The private key could not be decrypted: the password is wrong.</source>
        <translation>Der private Schlüssel konnte nicht entschlüsselt werden: Das Passwort ist falsch.</translation>
    </message>
    <message>
        <source>This is not a PEM private key (&quot;-----BEGIN PRIVATE KEY-----&quot;): %1</source>
        <translation>Das ist kein privater Schlüssel im PEM-Format („-----BEGIN PRIVATE KEY-----“): %1</translation>
    </message>
    <message>
        <source>other</source>
        <translation>sonstiger</translation>
    </message>
    <message>
        <source>This is neither a PEM nor a DER private key: %1</source>
        <translation>Das ist weder ein PEM- noch ein DER-Privatschlüssel: %1</translation>
    </message>
    <message>
        <source>The nRF9160 modem supports EC P-256 keys only; this is a %1 key.</source>
        <translation>Das nRF9160-Modem unterstützt nur EC-P-256-Schlüssel; dies ist ein %1-Schlüssel.</translation>
    </message>
</context>
<context>
    <name>Onboarder::AddHubDialog</name>
    <message>
        <source>Custom endpoint (sandbox or gateway)</source>
        <translation>Eigener Endpunkt (Sandbox oder Gateway)</translation>
    </message>
    <message>
        <source>Add Hub</source>
        <translation>Hub hinzufügen</translation>
    </message>
    <message>
        <source>Paste the connection string of one of the hub&apos;s shared access policies. In the Azure portal: IoT Hub → Security settings → Shared access policies → iothubowner → Primary connection string.</source>
        <translation>Fügen Sie die Verbindungszeichenfolge einer der freigegebenen Zugriffsrichtlinien des Hubs ein. Im Azure-Portal: IoT Hub → Sicherheitseinstellungen → Freigegebene Zugriffsrichtlinien → iothubowner → Primäre Verbindungszeichenfolge.</translation>
    </message>
    <message>
        <source>e.g. production</source>
        <translation>z. B. produktion</translation>
    </message>
    <message>
        <source>Hub name</source>
        <translation>Hub-Name</translation>
    </message>
    <message>
        <source>Connection string</source>
        <translation>Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Anzeigen</translation>
    </message>
    <message>
        <source>Show or hide the connection string</source>
        <translation>Verbindungszeichenfolge anzeigen oder verbergen</translation>
    </message>
    <message>
        <source>Paste</source>
        <translation>Einfügen</translation>
    </message>
    <message>
        <source>Paste the connection string from the clipboard</source>
        <translation>Verbindungszeichenfolge aus der Zwischenablage einfügen</translation>
    </message>
    <message>
        <source>443 (Azure)</source>
        <translation>443 (Azure)</translation>
    </message>
    <message>
        <source>8883 (Azure)</source>
        <translation>8883 (Azure)</translation>
    </message>
    <message>
        <source>System certificates</source>
        <translation>Zertifikate des Systems</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Durchsuchen…</translation>
    </message>
    <message>
        <source>Trusted &amp;CA:</source>
        <translation>Vertrauenswürdige &amp;CA:</translation>
    </message>
    <message>
        <source>&amp;REST port:</source>
        <translation>&amp;REST-Port:</translation>
    </message>
    <message>
        <source>&amp;MQTT port:</source>
        <translation>&amp;MQTT-Port:</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Connection string:</source>
        <translation>&amp;Verbindungszeichenfolge:</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Hinzufügen</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Verbergen</translation>
    </message>
    <message>
        <source>A hub named &quot;%1&quot; exists already.</source>
        <translation>Ein Hub namens „%1“ existiert bereits.</translation>
    </message>
    <message>
        <source>This is a %1 connection string. A hub needs a shared access policy&apos;s connection string, with SharedAccessKeyName.</source>
        <translation>Das ist eine Verbindungszeichenfolge der Art „%1“. Ein Hub braucht eine mit SharedAccessKeyName.</translation>
    </message>
    <message>
        <source>Hub %1 on %2, policy %3.</source>
        <translation>Hub %1 auf %2, Richtlinie %3.</translation>
    </message>
    <message>
        <source>Saving the key in the system keychain…</source>
        <translation>Schlüssel wird im Schlüsselbund des Systems gespeichert…</translation>
    </message>
    <message>
        <source>Trusted CA certificate</source>
        <translation>Vertrauenswürdiges CA-Zertifikat</translation>
    </message>
    <message>
        <source>PEM certificates (*.pem *.crt);;All files (*)</source>
        <translation>PEM-Zertifikate (*.pem *.crt);;Alle Dateien (*)</translation>
    </message>
</context>
<context>
    <name>Onboarder::ConnectionString</name>
    <message>
        <source>The GatewayHostName contains a character that is not allowed at position %1. Only ASCII letters, digits and _ - . are allowed.</source>
        <translation>Der GatewayHostName hat an Position %1 ein unzulässiges Zeichen (erlaubt: ASCII-Buchstaben, Ziffern, . _ -).</translation>
    </message>
    <message>
        <source>The GatewayHostName has an empty part: it must not start or end with a dot, nor contain two dots in a row.</source>
        <translation>Der GatewayHostName hat einen leeren Teil: kein Punkt am Anfang oder Ende, keine zwei Punkte hintereinander.</translation>
    </message>
    <message>
        <source>The connection string is empty.</source>
        <translation>Die Verbindungszeichenfolge ist leer.</translation>
    </message>
    <message>
        <source>The connection string holds only white space.</source>
        <translation>Die Verbindungszeichenfolge enthält nur Leerzeichen.</translation>
    </message>
    <message>
        <source>The connection string starts or ends with white space. Copy it again without the spaces or line breaks around it.</source>
        <translation>Leerzeichen oder Zeilenumbrüche am Anfang oder Ende. Kopieren Sie die Verbindungszeichenfolge ohne sie.</translation>
    </message>
    <message>
        <source>Part %1 of the connection string is empty. Parts are Key=Value, separated by a single &quot;;&quot;.</source>
        <translation>Teil %1 der Verbindungszeichenfolge ist leer. Teile haben die Form Schlüssel=Wert, getrennt durch ein einzelnes „;“.</translation>
    </message>
    <message>
        <source>Part %1 of the connection string has no &quot;=&quot;. Every part must be Key=Value.</source>
        <translation>Teil %1 der Verbindungszeichenfolge enthält kein „=“. Jeder Teil muss die Form Schlüssel=Wert haben.</translation>
    </message>
    <message>
        <source>Part %1 of the connection string has no key before its &quot;=&quot;.</source>
        <translation>Teil %1 der Verbindungszeichenfolge hat keinen Schlüssel vor dem „=“.</translation>
    </message>
    <message>
        <source>Part %1 of the connection string has white space around its key. Remove the spaces.</source>
        <translation>Teil %1 der Verbindungszeichenfolge hat Leerzeichen um seinen Schlüssel. Entfernen Sie die Leerzeichen.</translation>
    </message>
    <message>
        <source>The key &quot;%1&quot; in part %2 of the connection string has white space around it. Remove the spaces.</source>
        <translation>Der Schlüssel „%1“ in Teil %2 der Verbindungszeichenfolge hat Leerzeichen. Entfernen Sie sie.</translation>
    </message>
    <message>
        <source>The connection string has an unknown key &quot;%1&quot;. Did you mean %2? Keys are case-sensitive.</source>
        <translation>Unbekannter Schlüssel „%1“. Meinten Sie %2? Groß- und Kleinschreibung wird unterschieden.</translation>
    </message>
    <message>
        <source>Part %1 of the connection string is not a known Key=Value pair. Known keys are HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, x509 and GatewayHostName.</source>
        <translation>Teil %1 der Verbindungszeichenfolge ist kein bekanntes Paar Schlüssel=Wert. Bekannte Schlüssel sind HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, x509 und GatewayHostName.</translation>
    </message>
    <message>
        <source>The connection string has an unknown key &quot;%1&quot;. Known keys are HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, x509 and GatewayHostName.</source>
        <translation>Die Verbindungszeichenfolge enthält den unbekannten Schlüssel „%1“. Bekannte Schlüssel sind HostName, DeviceId, ModuleId, SharedAccessKeyName, SharedAccessKey, SharedAccessSignature, x509 und GatewayHostName.</translation>
    </message>
    <message>
        <source>The key %1 appears more than once in the connection string.</source>
        <translation>Der Schlüssel %1 kommt mehrmals in der Verbindungszeichenfolge vor.</translation>
    </message>
    <message>
        <source>The key %1 has no value after its &quot;=&quot;.</source>
        <translation>Der Schlüssel %1 hat keinen Wert nach dem „=“.</translation>
    </message>
    <message>
        <source>The value of %1 starts or ends with white space. Remove the spaces.</source>
        <translation>Der Wert von %1 beginnt oder endet mit Leerzeichen. Entfernen Sie die Leerzeichen.</translation>
    </message>
    <message>
        <source>The connection string has no HostName, for example HostName=myhub.azure-devices.net.</source>
        <translation>Die Verbindungszeichenfolge hat keinen HostName, zum Beispiel HostName=myhub.azure-devices.net.</translation>
    </message>
    <message>
        <source>The connection string has a ModuleId but no DeviceId. A module connection string needs the DeviceId of the module&apos;s device as well.</source>
        <translation>Die Verbindungszeichenfolge hat eine ModuleId, aber keine DeviceId. Ein Modul braucht auch die DeviceId seines Geräts.</translation>
    </message>
    <message>
        <source>The only value x509 accepts is &quot;true&quot;, exactly and in lower case.</source>
        <translation>x509 akzeptiert nur den Wert „true“, genau so und in Kleinbuchstaben.</translation>
    </message>
    <message>
        <source>The connection string has SharedAccessKey, SharedAccessSignature and x509=true. It can carry only one of them.</source>
        <translation>SharedAccessKey, SharedAccessSignature und x509=true zugleich: Nur eines davon ist erlaubt.</translation>
    </message>
    <message>
        <source>The connection string has both %1 and %2. It can carry only one of them.</source>
        <translation>Die Verbindungszeichenfolge hat sowohl %1 als auch %2. Sie kann nur eines davon enthalten.</translation>
    </message>
    <message>
        <source>The connection string has x509=true but no DeviceId. X.509 authentication belongs to a device or module connection string.</source>
        <translation>x509=true ohne DeviceId: X.509-Authentifizierung gibt es nur in Verbindungszeichenfolgen von Geräten und Modulen.</translation>
    </message>
    <message>
        <source>The connection string has no credential. A hub connection string needs SharedAccessKeyName and SharedAccessKey; a device connection string needs DeviceId and one of SharedAccessKey, SharedAccessSignature or x509=true.</source>
        <translation>Die Verbindungszeichenfolge enthält keine Anmeldedaten. Die Verbindungszeichenfolge eines Hubs braucht SharedAccessKeyName und SharedAccessKey; die eines Geräts braucht DeviceId und eines von SharedAccessKey, SharedAccessSignature oder x509=true.</translation>
    </message>
    <message>
        <source>The connection string has %1 but neither SharedAccessKeyName (for a hub&apos;s shared access policy) nor DeviceId (for a device).</source>
        <translation>Die Verbindungszeichenfolge hat %1, aber weder SharedAccessKeyName (Hub) noch DeviceId (Gerät).</translation>
    </message>
    <message>
        <source>The connection string names a shared access policy (SharedAccessKeyName) but has no SharedAccessKey for it.</source>
        <translation>Die Verbindungszeichenfolge nennt eine Richtlinie (SharedAccessKeyName), aber keinen SharedAccessKey.</translation>
    </message>
    <message>
        <source>GatewayHostName belongs to a device or module connection string; a hub connection string (one without DeviceId) cannot have it.</source>
        <translation>GatewayHostName gehört in die Verbindungszeichenfolge eines Geräts oder Moduls, nicht eines Hubs (ohne DeviceId).</translation>
    </message>
    <message>
        <source>The device connection string has no credential. Add one of SharedAccessKey, SharedAccessSignature or x509=true.</source>
        <translation>Keine Anmeldedaten: Ein Gerät braucht SharedAccessKey, SharedAccessSignature oder x509=true.</translation>
    </message>
    <message>
        <source>The SharedAccessKey is not valid base64. It may be cut off or have extra characters; copy it again from the portal.</source>
        <translation>Der SharedAccessKey ist kein gültiges Base64 (abgeschnitten oder Zeichen zu viel?). Kopieren Sie ihn neu aus dem Portal.</translation>
    </message>
    <message>
        <source>The SharedAccessSignature is not a valid token. %1</source>
        <translation>Die SharedAccessSignature ist kein gültiges Token. %1</translation>
    </message>
    <message>
        <source>hub (shared access policy)</source>
        <translation>Hub (freigegebene Zugriffsrichtlinie)</translation>
    </message>
    <message>
        <source>device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>module</source>
        <translation>Modul</translation>
    </message>
</context>
<context>
    <name>Onboarder::CreateDeviceDialog</name>
    <message>
        <source>Let the hub generate both keys</source>
        <translation>Beide Schlüssel vom Hub erzeugen lassen</translation>
    </message>
    <message>
        <source>Enabled: the device may connect as soon as it is registered</source>
        <translation>Aktiviert: das Gerät darf sich verbinden, sobald es registriert ist</translation>
    </message>
    <message>
        <source>New Device</source>
        <translation>Neues Gerät</translation>
    </message>
    <message>
        <source>e.g. nrf-352656100000000</source>
        <translation>z. B. nrf-352656100000000</translation>
    </message>
    <message>
        <source>Device ID</source>
        <translation>Geräte-ID</translation>
    </message>
    <message>
        <source>Symmetric key (SAS)</source>
        <translation>Symmetrischer Schlüssel (SAS)</translation>
    </message>
    <message>
        <source>X.509 self-signed</source>
        <translation>X.509 selbstsigniert</translation>
    </message>
    <message>
        <source>X.509 signed by a CA</source>
        <translation>X.509 von einer CA signiert</translation>
    </message>
    <message>
        <source>base64, 16 to 64 bytes</source>
        <translation>Base64, 16 bis 64 Bytes</translation>
    </message>
    <message>
        <source>Primary key</source>
        <translation>Primärer Schlüssel</translation>
    </message>
    <message>
        <source>Secondary key</source>
        <translation>Sekundärer Schlüssel</translation>
    </message>
    <message>
        <source>Random Keys</source>
        <translation>Zufällige Schlüssel</translation>
    </message>
    <message>
        <source>Fill both fields with new random keys</source>
        <translation>Beide Felder mit neuen zufälligen Schlüsseln füllen</translation>
    </message>
    <message>
        <source>Primary key:</source>
        <translation>Primärer Schlüssel:</translation>
    </message>
    <message>
        <source>Secondary key:</source>
        <translation>Sekundärer Schlüssel:</translation>
    </message>
    <message>
        <source>SHA-1 or SHA-256, hexadecimal</source>
        <translation>SHA-1 oder SHA-256, hexadezimal</translation>
    </message>
    <message>
        <source>Primary thumbprint</source>
        <translation>Primärer Fingerabdruck</translation>
    </message>
    <message>
        <source>optional</source>
        <translation>optional</translation>
    </message>
    <message>
        <source>Secondary thumbprint</source>
        <translation>Sekundärer Fingerabdruck</translation>
    </message>
    <message>
        <source>From Certificate…</source>
        <translation>Aus Zertifikat…</translation>
    </message>
    <message>
        <source>Primary thumbprint:</source>
        <translation>Primärer Fingerabdruck:</translation>
    </message>
    <message>
        <source>Secondary thumbprint:</source>
        <translation>Sekundärer Fingerabdruck:</translation>
    </message>
    <message>
        <source>The device presents a certificate whose subject (CN) is its device ID, signed by a CA certificate that was uploaded to the hub and verified there.</source>
        <translation>Das Gerät legt ein Zertifikat vor, dessen Subjekt (CN) seine Geräte-ID ist, signiert von einem CA-Zertifikat, das in den Hub hochgeladen und dort verifiziert wurde.</translation>
    </message>
    <message>
        <source>Create</source>
        <translation>Erstellen</translation>
    </message>
    <message>
        <source>Device &amp;ID:</source>
        <translation>Geräte-&amp;ID:</translation>
    </message>
    <message>
        <source>Authentication:</source>
        <translation>Authentifizierung:</translation>
    </message>
    <message>
        <source>Device Certificate</source>
        <translation>Gerätezertifikat</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer *.der);;All files (*)</source>
        <translation>Zertifikate (*.pem *.crt *.cer *.der);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Make a key and certificate now (EC P-256, the key kept in the keychain)</source>
        <translation>Jetzt Schlüssel und Zertifikat erzeugen (EC P-256, der Schlüssel bleibt im Schlüsselbund)</translation>
    </message>
    <message>
        <source>The key and certificate made for it were removed again.</source>
        <translation>Der dafür erzeugte Schlüssel und das Zertifikat wurden wieder entfernt.</translation>
    </message>
    <message>
        <source>The key and certificate made for it could not be removed: %1</source>
        <translation>Der dafür erzeugte Schlüssel und das Zertifikat konnten nicht entfernt werden: %1</translation>
    </message>
</context>
<context>
    <name>Onboarder::CredentialStore</name>
    <message>
        <source>&quot;%1&quot; cannot name a CA: use 1 to 64 ASCII letters, digits and . _ -, starting with a letter or digit.</source>
        <translation>„%1“ taugt nicht als Name einer CA: Verwenden Sie 1 bis 64 ASCII-Buchstaben, Ziffern und . _ -, beginnend mit einem Buchstaben oder einer Ziffer.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>The certificate of %1 should be in %2, but that file cannot be read: %3</source>
        <translation>Das Zertifikat von %1 sollte in %2 liegen, aber diese Datei ist nicht lesbar: %3</translation>
    </message>
    <message>
        <source>Device &quot;%1&quot; of hub &quot;%2&quot; has no X.509 credential here. Make one with: onboarder-cli --hub %2 cred generate %1</source>
        <translation>Das Gerät „%1“ des Hubs „%2“ hat hier keine X.509-Anmeldedaten. Erstellen Sie welche mit: onboarder-cli --hub %2 cred generate %1</translation>
    </message>
    <message>
        <source>device &quot;%1&quot;</source>
        <translation>Gerät „%1“</translation>
    </message>
    <message>
        <source>Device &quot;%1&quot; of hub &quot;%2&quot; has an X.509 credential already (%3, made %4). Replacing it deletes its private key; ask for that explicitly (--replace).</source>
        <translation>Das Gerät „%1“ des Hubs „%2“ hat bereits X.509-Anmeldedaten (%3, erstellt %4). Ersetzen löscht deren privaten Schlüssel; verlangen Sie das ausdrücklich (--replace).</translation>
    </message>
    <message>
        <source>Choose EC P-256, RSA 2048 or RSA 3072 for a new key.</source>
        <translation>Wählen Sie EC P-256, RSA 2048 oder RSA 3072 für einen neuen Schlüssel.</translation>
    </message>
    <message>
        <source>The certificate signing request is for &quot;%1&quot;, not for device &quot;%2&quot;; IoT Hub accepts a CA-signed device only when the certificate&apos;s CN is its id.</source>
        <translation>Die Zertifikatsanforderung gilt für „%1“, nicht für das Gerät „%2“; IoT Hub akzeptiert ein CA-signiertes Gerät nur, wenn der CN des Zertifikats seine ID ist.</translation>
    </message>
    <message>
        <source>There is no CA to import.</source>
        <translation>Es gibt keine CA zum Importieren.</translation>
    </message>
    <message>
        <source>A CA named &quot;%1&quot; was imported already. Replacing it deletes its private key; ask for that explicitly (--replace).</source>
        <translation>Eine CA namens „%1“ wurde bereits importiert. Ersetzen löscht ihren privaten Schlüssel; verlangen Sie das ausdrücklich (--replace).</translation>
    </message>
    <message>
        <source>No CA named &quot;%1&quot; was imported. Import one with: onboarder-cli cred import-ca %1 …</source>
        <translation>Es wurde keine CA namens „%1“ importiert. Importieren Sie eine mit: onboarder-cli cred import-ca %1 …</translation>
    </message>
    <message>
        <source>CA &quot;%1&quot;</source>
        <translation>CA „%1“</translation>
    </message>
    <message>
        <source>A device&apos;s symmetric key is base64 of at least 16 bytes; this one is not.</source>
        <translation>Der symmetrische Schlüssel eines Geräts ist Base64 von mindestens 16 Bytes; dieser ist es nicht.</translation>
    </message>
    <message>
        <source>The private key of device &quot;%1&quot; was made on the device and never left it, so only its certificate can be exported.</source>
        <translation>Der private Schlüssel des Geräts „%1“ wurde auf dem Gerät erzeugt und hat es nie verlassen; exportieren lässt sich daher nur sein Zertifikat.</translation>
    </message>
</context>
<context>
    <name>Onboarder::DeviceBatch</name>
    <message>
        <source>The hub was closed before the change was made.</source>
        <translation>Der Hub wurde geschlossen, bevor die Änderung vorgenommen wurde.</translation>
    </message>
    <message>
        <source>Enabled 1 device.</source>
        <translation>1 Gerät aktiviert.</translation>
    </message>
    <message>
        <source>Enabled %1 devices.</source>
        <translation>%1 Geräte aktiviert.</translation>
    </message>
    <message>
        <source>Disabled 1 device.</source>
        <translation>1 Gerät deaktiviert.</translation>
    </message>
    <message>
        <source>Disabled %1 devices.</source>
        <translation>%1 Geräte deaktiviert.</translation>
    </message>
    <message>
        <source>Deleted 1 device.</source>
        <translation>1 Gerät gelöscht.</translation>
    </message>
    <message>
        <source>Deleted %1 devices.</source>
        <translation>%1 Geräte gelöscht.</translation>
    </message>
    <message>
        <source>1 failed:</source>
        <translation>1 fehlgeschlagen:</translation>
    </message>
    <message>
        <source>%1 failed:</source>
        <translation>%1 fehlgeschlagen:</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>… and %1 more.</source>
        <translation>… und %1 weitere.</translation>
    </message>
    <message>
        <source>Cancelled: 1 device left unchanged.</source>
        <translation>Abgebrochen: 1 Gerät blieb unverändert.</translation>
    </message>
    <message>
        <source>Cancelled: %1 devices left unchanged.</source>
        <translation>Abgebrochen: %1 Geräte blieben unverändert.</translation>
    </message>
</context>
<context>
    <name>Onboarder::DeviceListModel</name>
    <message>
        <source>Enabled</source>
        <translation>Aktiviert</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Deaktiviert</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Nie</translation>
    </message>
    <message>
        <source>SAS key</source>
        <translation>SAS-Schlüssel</translation>
    </message>
    <message>
        <source>X.509 self-signed</source>
        <translation>X.509 selbstsigniert</translation>
    </message>
    <message>
        <source>X.509 CA</source>
        <translation>X.509-CA</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <source>Cloud-to-device messages waiting for the device</source>
        <translation>Cloud-zu-Gerät-Nachrichten, die auf das Gerät warten</translation>
    </message>
    <message>
        <source>Device ID</source>
        <translation>Geräte-ID</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <source>Last Activity</source>
        <translation>Letzte Aktivität</translation>
    </message>
    <message>
        <source>Authentication</source>
        <translation>Authentifizierung</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>Wartend</translation>
    </message>
</context>
<context>
    <name>Onboarder::DevicePage</name>
    <message>
        <source>Not valid JSON at line %1, column %2: %3.</source>
        <translation>Kein gültiges JSON in Zeile %1, Spalte %2: %3.</translation>
    </message>
    <message>
        <source>Enter one JSON value.</source>
        <translation>Geben Sie einen JSON-Wert ein.</translation>
    </message>
    <message>
        <source>Enter a JSON object: { … }.</source>
        <translation>Geben Sie ein JSON-Objekt ein: { … }.</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>All Devices</source>
        <translation>Alle Geräte</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Neu laden</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>Übersicht</translation>
    </message>
    <message>
        <source>Twin</source>
        <translation>Twin</translation>
    </message>
    <message>
        <source>Direct Method</source>
        <translation>Direkte Methode</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Connection:</source>
        <translation>Verbindung:</translation>
    </message>
    <message>
        <source>Last activity:</source>
        <translation>Letzte Aktivität:</translation>
    </message>
    <message>
        <source>Authentication:</source>
        <translation>Authentifizierung:</translation>
    </message>
    <message>
        <source>Queued messages:</source>
        <translation>Wartende Nachrichten:</translation>
    </message>
    <message>
        <source>ETag:</source>
        <translation>ETag:</translation>
    </message>
    <message>
        <source>Check Device</source>
        <translation>Gerät prüfen</translation>
    </message>
    <message>
        <source>Answers: is it registered, enabled, connected, when was it last active, when did it last report, does it answer?</source>
        <translation>Beantwortet: Ist es registriert, aktiviert, verbunden? Wann war es zuletzt aktiv, wann hat es zuletzt gemeldet, antwortet es?</translation>
    </message>
    <message>
        <source>Also call its &quot;ping&quot; method</source>
        <translation>Auch seine Methode „ping“ aufrufen</translation>
    </message>
    <message>
        <source>Question</source>
        <translation>Frage</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>Antwort</translation>
    </message>
    <message>
        <source>Check results</source>
        <translation>Prüfergebnisse</translation>
    </message>
    <message>
        <source>Tags and desired properties</source>
        <translation>Tags und gewünschte Eigenschaften</translation>
    </message>
    <message>
        <source>Save Changes</source>
        <translation>Änderungen speichern</translation>
    </message>
    <message>
        <source>Revert</source>
        <translation>Verwerfen</translation>
    </message>
    <message>
        <source>The twin as the hub has it:</source>
        <translation>Der Twin, wie ihn der Hub hat:</translation>
    </message>
    <message>
        <source>Tags and desired properties (the device sees the desired ones). Saving replaces both; a key left out is removed.</source>
        <translation>Tags und gewünschte Eigenschaften (das Gerät sieht die gewünschten). Speichern ersetzt beide; ein weggelassener Schlüssel wird entfernt.</translation>
    </message>
    <message>
        <source>e.g. reboot</source>
        <translation>z. B. reboot</translation>
    </message>
    <message>
        <source>Method name</source>
        <translation>Methodenname</translation>
    </message>
    <message>
        <source>JSON payload, e.g. {&quot;delay&quot;: 5}; empty sends null</source>
        <translation>JSON-Nutzlast, z. B. {&quot;delay&quot;: 5}; leer sendet null</translation>
    </message>
    <message>
        <source>Payload</source>
        <translation>Nutzlast</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>How long the hub waits for the device&apos;s answer</source>
        <translation>Wie lange der Hub auf die Antwort des Geräts wartet</translation>
    </message>
    <message>
        <source>only if connected now</source>
        <translation>nur wenn jetzt verbunden</translation>
    </message>
    <message>
        <source>How long the hub waits for a disconnected device to connect</source>
        <translation>Wie lange der Hub wartet, bis sich ein getrenntes Gerät verbindet</translation>
    </message>
    <message>
        <source>Invoke</source>
        <translation>Aufrufen</translation>
    </message>
    <message>
        <source>Stop Waiting</source>
        <translation>Nicht mehr warten</translation>
    </message>
    <message>
        <source>A method that was sent cannot be taken back; this only stops waiting for its answer.</source>
        <translation>Eine gesendete Methode lässt sich nicht zurücknehmen; dies beendet nur das Warten auf ihre Antwort.</translation>
    </message>
    <message>
        <source>Response</source>
        <translation>Antwort</translation>
    </message>
    <message>
        <source>&amp;Method:</source>
        <translation>&amp;Methode:</translation>
    </message>
    <message>
        <source>Payload:</source>
        <translation>Nutzlast:</translation>
    </message>
    <message>
        <source>Wait for connection:</source>
        <translation>Auf Verbindung warten:</translation>
    </message>
    <message>
        <source>Answer within:</source>
        <translation>Antwort innerhalb:</translation>
    </message>
    <message>
        <source>Response payload:</source>
        <translation>Nutzlast der Antwort:</translation>
    </message>
    <message>
        <source>Stopped waiting. The device may still run the method.</source>
        <translation>Warten beendet. Das Gerät führt die Methode womöglich trotzdem aus.</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>Enabled</source>
        <translation>Aktiviert</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Deaktiviert</translation>
    </message>
    <message>
        <source>Disabled (%1)</source>
        <translation>Deaktiviert (%1)</translation>
    </message>
    <message>
        <source>Disable</source>
        <translation>Deaktivieren</translation>
    </message>
    <message>
        <source>Enable</source>
        <translation>Aktivieren</translation>
    </message>
    <message>
        <source>Connected, since %1</source>
        <translation>Verbunden, seit %1</translation>
    </message>
    <message>
        <source>Disconnected, since %1</source>
        <translation>Getrennt, seit %1</translation>
    </message>
    <message>
        <source>Symmetric key (SAS)</source>
        <translation>Symmetrischer Schlüssel (SAS)</translation>
    </message>
    <message>
        <source>X.509 self-signed, thumbprint %1</source>
        <translation>X.509 selbstsigniert, Fingerabdruck %1</translation>
    </message>
    <message>
        <source>X.509 self-signed, thumbprints %1 and %2</source>
        <translation>X.509 selbstsigniert, Fingerabdrücke %1 und %2</translation>
    </message>
    <message>
        <source>X.509 signed by a CA</source>
        <translation>X.509 von einer CA signiert</translation>
    </message>
    <message>
        <source>Only &quot;tags&quot; and &quot;desired&quot; can be changed here, not &quot;%1&quot;.</source>
        <translation>Hier lassen sich nur „tags“ und „desired“ ändern, nicht „%1“.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; must be a JSON object.</source>
        <translation>„%1“ muss ein JSON-Objekt sein.</translation>
    </message>
    <message>
        <source>Saved the twin of &quot;%1&quot;.</source>
        <translation>Twin von „%1“ gespeichert.</translation>
    </message>
    <message>
        <source>Twin Changed</source>
        <translation>Twin geändert</translation>
    </message>
    <message>
        <source>The twin of &quot;%1&quot; was changed by someone else after it was loaded here, so your changes were not saved.

Reload it (your changes are lost), or keep editing and copy them out first?</source>
        <translation>Der Twin von „%1“ wurde von jemand anderem geändert, nachdem er hier geladen wurde; Ihre Änderungen wurden daher nicht gespeichert.

Neu laden (Ihre Änderungen gehen verloren) oder weiter bearbeiten und sie zuerst herauskopieren?</translation>
    </message>
    <message>
        <source>Waiting for &quot;%1&quot; to answer…</source>
        <translation>Warte auf die Antwort von „%1“…</translation>
    </message>
    <message>
        <source>&quot;%1&quot; answered %2 with status %3.</source>
        <translation>„%1“ hat %2 mit Status %3 beantwortet.</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Prüfe…</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>Prüfung</translation>
    </message>
    <message>
        <source>Registered?</source>
        <translation>Registriert?</translation>
    </message>
    <message>
        <source>Enabled?</source>
        <translation>Aktiviert?</translation>
    </message>
    <message>
        <source>Connected?</source>
        <translation>Verbunden?</translation>
    </message>
    <message>
        <source>Last activity?</source>
        <translation>Letzte Aktivität?</translation>
    </message>
    <message>
        <source>Last reported?</source>
        <translation>Zuletzt gemeldet?</translation>
    </message>
    <message>
        <source>Answers a ping?</source>
        <translation>Antwortet auf Ping?</translation>
    </message>
    <message>
        <source>Enabled &quot;%1&quot;.</source>
        <translation>„%1“ aktiviert.</translation>
    </message>
    <message>
        <source>Disabled &quot;%1&quot;.</source>
        <translation>„%1“ deaktiviert.</translation>
    </message>
    <message>
        <source>Primary connection string</source>
        <translation>Primäre Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>Secondary connection string</source>
        <translation>Sekundäre Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Anzeigen</translation>
    </message>
    <message>
        <source>Show or hide the connection strings</source>
        <translation>Verbindungszeichenfolgen anzeigen oder verbergen</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>A connection string lets whoever holds it act as this device. Hand it over only through a safe channel; a copy leaves the clipboard by itself after a while.</source>
        <translation>Mit einer Verbindungszeichenfolge kann jeder, der sie hat, als dieses Gerät auftreten. Geben Sie sie nur über einen sicheren Weg weiter; eine Kopie verschwindet nach einer Weile von selbst aus der Zwischenablage.</translation>
    </message>
    <message>
        <source>Primary:</source>
        <translation>Primär:</translation>
    </message>
    <message>
        <source>Secondary:</source>
        <translation>Sekundär:</translation>
    </message>
    <message>
        <source>Hide</source>
        <translation>Verbergen</translation>
    </message>
    <message>
        <source>The connection string was removed from the clipboard.</source>
        <translation>Die Verbindungszeichenfolge wurde aus der Zwischenablage entfernt.</translation>
    </message>
    <message>
        <source>An X.509 device has one connection string; the certificate is its secret.</source>
        <translation>Ein X.509-Gerät hat eine Verbindungszeichenfolge; das Zertifikat ist sein Geheimnis.</translation>
    </message>
    <message>
        <source>Copied the secondary connection string of &quot;%1&quot;. The clipboard is cleared in %2 seconds if it still holds it.</source>
        <translation>Die sekundäre Verbindungszeichenfolge von „%1“ wurde kopiert. Die Zwischenablage wird in %2 Sekunden geleert, falls sie sie dann noch enthält.</translation>
    </message>
    <message>
        <source>Copied the primary connection string of &quot;%1&quot;. The clipboard is cleared in %2 seconds if it still holds it.</source>
        <translation>Die primäre Verbindungszeichenfolge von „%1“ wurde kopiert. Die Zwischenablage wird in %2 Sekunden geleert, falls sie sie dann noch enthält.</translation>
    </message>
    <message>
        <source>Credentials</source>
        <translation>Anmeldedaten</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exportieren…</translation>
    </message>
    <message>
        <source>To an OpenPGP-encrypted file, a QR code, or (confirmed) a plaintext file</source>
        <translation>In eine OpenPGP-verschlüsselte Datei, als QR-Code oder (bestätigt) in eine Klartextdatei</translation>
    </message>
    <message>
        <source>Export Certificate and Key…</source>
        <translation>Zertifikat und Schlüssel exportieren…</translation>
    </message>
    <message>
        <source>X.509 credential on this computer</source>
        <translation>X.509-Anmeldedaten auf diesem Computer</translation>
    </message>
    <message>
        <source>None: no key or certificate for this device was made or imported here.</source>
        <translation>Keine: Für dieses Gerät wurde hier weder ein Schlüssel noch ein Zertifikat erzeugt oder importiert.</translation>
    </message>
    <message>
        <source>%1 key in the keychain as &quot;%2&quot;</source>
        <translation>%1-Schlüssel im Schlüsselbund als „%2“</translation>
    </message>
    <message>
        <source>%1 key made on the device; it never left it</source>
        <translation>%1-Schlüssel, auf dem Gerät erzeugt; er hat es nie verlassen</translation>
    </message>
    <message>
        <source>%1
Certificate: %2, issued by %3, valid until %4
Thumbprints: SHA-1 %5, SHA-256 %6
Made here %7</source>
        <translation>%1
Zertifikat: %2, ausgestellt von %3, gültig bis %4
Fingerabdrücke: SHA-1 %5, SHA-256 %6
Hier erstellt am %7</translation>
    </message>
    <message>
        <source>the secondary connection string of &quot;%1&quot;</source>
        <translation>die sekundäre Verbindungszeichenfolge von „%1“</translation>
    </message>
    <message>
        <source>the primary connection string of &quot;%1&quot;</source>
        <translation>die primäre Verbindungszeichenfolge von „%1“</translation>
    </message>
    <message>
        <source>the certificate and private key of &quot;%1&quot;</source>
        <translation>das Zertifikat und den privaten Schlüssel von „%1“</translation>
    </message>
</context>
<context>
    <name>Onboarder::DevicesPage</name>
    <message>
        <source>Try Again</source>
        <translation>Erneut versuchen</translation>
    </message>
    <message>
        <source>New Device…</source>
        <translation>Neues Gerät…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <source>Enable</source>
        <translation>Aktivieren</translation>
    </message>
    <message>
        <source>Disable</source>
        <translation>Deaktivieren</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Löschen…</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>Geräte</translation>
    </message>
    <message>
        <source>The devices registered in the current hub. The filter runs on the hub, so it finds devices among any number.</source>
        <translation>Die im aktuellen Hub registrierten Geräte. Der Filter läuft auf dem Hub und findet Geräte daher unter beliebig vielen.</translation>
    </message>
    <message>
        <source>Filter: the start of a device ID, or a condition such as tags.site = &apos;bench-1&apos;</source>
        <translation>Filter: der Anfang einer Geräte-ID oder eine Bedingung wie tags.site = &apos;bench-1&apos;</translation>
    </message>
    <message>
        <source>Filter</source>
        <translation>Filter</translation>
    </message>
    <message>
        <source>All devices</source>
        <translation>Alle Geräte</translation>
    </message>
    <message>
        <source>Enabled</source>
        <translation>Aktiviert</translation>
    </message>
    <message>
        <source>Disabled</source>
        <translation>Deaktiviert</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>Anzeigen</translation>
    </message>
    <message>
        <source>Double-click a device to open it. Sorting orders the devices loaded so far.</source>
        <translation>Doppelklicken Sie auf ein Gerät, um es zu öffnen. Sortieren ordnet die bisher geladenen Geräte.</translation>
    </message>
    <message>
        <source>There is no current hub. Add one on the Hubs page, or make one current there.</source>
        <translation>Es gibt keinen aktuellen Hub. Fügen Sie auf der Seite „Hubs“ einen hinzu oder machen Sie dort einen zum aktuellen.</translation>
    </message>
    <message>
        <source>Opening the hub &quot;%1&quot;…</source>
        <translation>Öffne den Hub „%1“…</translation>
    </message>
    <message>
        <source>Cannot open the hub &quot;%1&quot;: %2</source>
        <translation>Der Hub „%1“ lässt sich nicht öffnen: %2</translation>
    </message>
    <message>
        <source>1 device</source>
        <translation>1 Gerät</translation>
    </message>
    <message>
        <source>%1 devices</source>
        <translation>%1 Geräte</translation>
    </message>
    <message>
        <source>, </source>
        <translation>, </translation>
    </message>
    <message>
        <source>%1 loaded</source>
        <translation>%1 geladen</translation>
    </message>
    <message>
        <source> · loading…</source>
        <translation> · lädt…</translation>
    </message>
    <message>
        <source> · scroll down for more</source>
        <translation> · für mehr nach unten scrollen</translation>
    </message>
    <message>
        <source>Registered device &quot;%1&quot;.</source>
        <translation>Gerät „%1“ registriert.</translation>
    </message>
    <message>
        <source>Enable Devices</source>
        <translation>Geräte aktivieren</translation>
    </message>
    <message>
        <source>Enable the device &quot;%1&quot;? It can connect to the hub again.</source>
        <translation>Das Gerät „%1“ aktivieren? Es kann sich dann wieder mit dem Hub verbinden.</translation>
    </message>
    <message>
        <source>Enable %1 devices? They can connect to the hub again.</source>
        <translation>%1 Geräte aktivieren? Sie können sich dann wieder mit dem Hub verbinden.</translation>
    </message>
    <message>
        <source>Disable Devices</source>
        <translation>Geräte deaktivieren</translation>
    </message>
    <message>
        <source>Disable the device &quot;%1&quot;? It is disconnected and cannot connect until it is enabled again.</source>
        <translation>Das Gerät „%1“ deaktivieren? Es wird getrennt und kann sich erst wieder verbinden, wenn es erneut aktiviert wird.</translation>
    </message>
    <message>
        <source>Disable %1 devices? They are disconnected and cannot connect until they are enabled again.</source>
        <translation>%1 Geräte deaktivieren? Sie werden getrennt und können sich erst wieder verbinden, wenn sie erneut aktiviert werden.</translation>
    </message>
    <message>
        <source>Delete Devices</source>
        <translation>Geräte löschen</translation>
    </message>
    <message>
        <source>Delete the device &quot;%1&quot; from the hub?

Its identity, keys and twin are gone for good; the device cannot connect any more.</source>
        <translation>Das Gerät „%1“ aus dem Hub löschen?

Identität, Schlüssel und Twin sind endgültig weg; das Gerät kann sich nicht mehr verbinden.</translation>
    </message>
    <message>
        <source>Delete %1 devices from the hub?

Their identities, keys and twins are gone for good; the devices cannot connect any more.</source>
        <translation>%1 Geräte aus dem Hub löschen?

Ihre Identitäten, Schlüssel und Twins sind endgültig weg; die Geräte können sich nicht mehr verbinden.</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>%1 of %2 devices…</source>
        <translation>%1 von %2 Geräten…</translation>
    </message>
</context>
<context>
    <name>Onboarder::ExportDialog</name>
    <message>
        <source>Export Secret</source>
        <translation>Geheimnis exportieren</translation>
    </message>
    <message>
        <source>Write it unencrypted. Anyone who can read the file can act as this device.</source>
        <translation>Unverschlüsselt schreiben. Jeder, der die Datei lesen kann, kann als dieses Gerät auftreten.</translation>
    </message>
    <message>
        <source>Anyone who sees the screen, or a photo of it, can act as this device. Show the code only where no one else is looking, and close this window afterwards.</source>
        <translation>Jeder, der den Bildschirm oder ein Foto davon sieht, kann als dieses Gerät auftreten. Zeigen Sie den Code nur, wo niemand sonst hinsieht, und schließen Sie dieses Fenster danach.</translation>
    </message>
    <message>
        <source>Show QR Code</source>
        <translation>QR-Code zeigen</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Exportieren</translation>
    </message>
    <message>
        <source>Export %1. Choose how it leaves this computer:</source>
        <translation>Exportiert wird %1. Wählen Sie, wie es diesen Computer verlässt:</translation>
    </message>
    <message>
        <source>Clipboard, cleared after %1 seconds</source>
        <translation>Zwischenablage, nach %1 Sekunden geleert</translation>
    </message>
    <message>
        <source>OpenPGP-encrypted file, for one recipient</source>
        <translation>OpenPGP-verschlüsselte Datei für einen Empfänger</translation>
    </message>
    <message>
        <source>PKCS#12 file protected by a password (certificate and key)</source>
        <translation>Passwortgeschützte PKCS#12-Datei (Zertifikat und Schlüssel)</translation>
    </message>
    <message>
        <source>QR code on the screen</source>
        <translation>QR-Code auf dem Bildschirm</translation>
    </message>
    <message>
        <source>Plaintext file (not encrypted)</source>
        <translation>Klartextdatei (nicht verschlüsselt)</translation>
    </message>
    <message>
        <source>The clipboard is marked so that clipboard managers do not keep it, and is cleared after %1 seconds if it still holds the secret.</source>
        <translation>Die Zwischenablage wird so markiert, dass Zwischenablage-Manager sie nicht aufbewahren, und nach %1 Sekunden geleert, falls sie das Geheimnis dann noch enthält.</translation>
    </message>
    <message>
        <source>fingerprint or e-mail in your GnuPG keyring, or a public key file (.asc)</source>
        <translation>Fingerabdruck oder E-Mail aus Ihrem GnuPG-Schlüsselbund oder eine Datei mit öffentlichem Schlüssel (.asc)</translation>
    </message>
    <message>
        <source>Recipient</source>
        <translation>Empfänger</translation>
    </message>
    <message>
        <source>Key File…</source>
        <translation>Schlüsseldatei…</translation>
    </message>
    <message>
        <source>Recipient:</source>
        <translation>Empfänger:</translation>
    </message>
    <message>
        <source>Only the holder of that key&apos;s secret key can read the file (gpg --decrypt).</source>
        <translation>Nur wer den geheimen Schlüssel zu diesem Schlüssel besitzt, kann die Datei lesen (gpg --decrypt).</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <source>Repeat password</source>
        <translation>Passwort wiederholen</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>Passwort:</translation>
    </message>
    <message>
        <source>Repeat:</source>
        <translation>Wiederholen:</translation>
    </message>
    <message>
        <source>AES-256 with PBKDF2. Give the password through another channel than the file.</source>
        <translation>AES-256 mit PBKDF2. Geben Sie das Passwort über einen anderen Weg weiter als die Datei.</translation>
    </message>
    <message>
        <source>Prefer an encrypted file. If it must be plain text, the file is new and readable by you only (mode 0600); delete it as soon as it has been used.</source>
        <translation>Besser eine verschlüsselte Datei. Muss es Klartext sein, ist die Datei neu und nur für Sie lesbar (Modus 0600); löschen Sie sie, sobald sie benutzt wurde.</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Auswählen…</translation>
    </message>
    <message>
        <source>Save as:</source>
        <translation>Speichern als:</translation>
    </message>
    <message>
        <source>The clipboard was cleared.</source>
        <translation>Die Zwischenablage wurde geleert.</translation>
    </message>
    <message>
        <source>Name the recipient.</source>
        <translation>Nennen Sie den Empfänger.</translation>
    </message>
    <message>
        <source>The password needs at least %1 characters.</source>
        <translation>Das Passwort braucht mindestens %1 Zeichen.</translation>
    </message>
    <message>
        <source>The two passwords differ.</source>
        <translation>Die beiden Passwörter unterscheiden sich.</translation>
    </message>
    <message>
        <source>Tick the box to write the secret unencrypted.</source>
        <translation>Setzen Sie das Häkchen, um das Geheimnis unverschlüsselt zu schreiben.</translation>
    </message>
    <message>
        <source>Choose the file to write.</source>
        <translation>Wählen Sie die Datei, die geschrieben werden soll.</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Kopieren</translation>
    </message>
    <message>
        <source>OpenPGP messages (*.asc)</source>
        <translation>OpenPGP-Nachrichten (*.asc)</translation>
    </message>
    <message>
        <source>PKCS#12 files (*.p12 *.pfx)</source>
        <translation>PKCS#12-Dateien (*.p12 *.pfx)</translation>
    </message>
    <message>
        <source>Text files (*.txt *.pem)</source>
        <translation>Textdateien (*.txt *.pem)</translation>
    </message>
    <message>
        <source>Save Secret As</source>
        <translation>Geheimnis speichern unter</translation>
    </message>
    <message>
        <source>Recipient&apos;s Public Key</source>
        <translation>Öffentlicher Schlüssel des Empfängers</translation>
    </message>
    <message>
        <source>OpenPGP public keys (*.asc *.gpg *.pub);;All files (*)</source>
        <translation>Öffentliche OpenPGP-Schlüssel (*.asc *.gpg *.pub);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Copied. The clipboard is cleared in %1 seconds if it still holds it.</source>
        <translation>Kopiert. Die Zwischenablage wird in %1 Sekunden geleert, falls sie es dann noch enthält.</translation>
    </message>
    <message>
        <source>Wrote %1 (readable by you only). Delete it once it has been used.</source>
        <translation>%1 geschrieben (nur für Sie lesbar). Löschen Sie die Datei, sobald sie benutzt wurde.</translation>
    </message>
    <message>
        <source>Wrote %1, encrypted to %2 (%3).</source>
        <translation>%1 geschrieben, verschlüsselt für %2 (%3).</translation>
    </message>
    <message>
        <source>Wrote %1. Send the password another way than the file.</source>
        <translation>%1 geschrieben. Senden Sie das Passwort auf einem anderen Weg als die Datei.</translation>
    </message>
</context>
<context>
    <name>Onboarder::HubListModel</name>
    <message>
        <source>Azure</source>
        <translation>Azure</translation>
    </message>
    <message>
        <source>REST %1 · MQTT %2</source>
        <translation>REST %1 · MQTT %2</translation>
    </message>
    <message>
        <source>REST %1 · MQTT %2 · own CA</source>
        <translation>REST %1 · MQTT %2 · eigene CA</translation>
    </message>
    <message>
        <source>Trusts the CA in %1 for this hub</source>
        <translation>Vertraut für diesen Hub der CA in %1</translation>
    </message>
    <message>
        <source>The current hub: commands without --hub work on it</source>
        <translation>Der aktuelle Hub: Befehle ohne --hub arbeiten mit ihm</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Host</source>
        <translation>Host</translation>
    </message>
    <message>
        <source>Access policy</source>
        <translation>Zugriffsrichtlinie</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpunkt</translation>
    </message>
</context>
<context>
    <name>Onboarder::HubStore</name>
    <message>
        <source>The %1 port must be between 1 and 65535 (0 for the default); %2 is not.</source>
        <translation>Der %1-Port muss zwischen 1 und 65535 liegen (0 für den Standardwert); %2 ist ungültig.</translation>
    </message>
    <message>
        <source>A hub named &quot;%1&quot; exists already. Choose another name or remove that hub first.</source>
        <translation>Ein Hub namens „%1“ existiert bereits. Wählen Sie einen anderen Namen oder entfernen Sie zuerst diesen Hub.</translation>
    </message>
    <message>
        <source>This is a %1 connection string. A hub needs the connection string of a shared access policy (HostName, SharedAccessKeyName and SharedAccessKey), e.g. iothubowner&apos;s from the Azure portal: IoT Hub → Shared access policies.</source>
        <translation>Das ist eine Verbindungszeichenfolge der Art „%1“. Ein Hub braucht die Verbindungszeichenfolge einer freigegebenen Zugriffsrichtlinie (HostName, SharedAccessKeyName und SharedAccessKey), z. B. die von iothubowner aus dem Azure-Portal: IoT Hub → Freigegebene Zugriffsrichtlinien.</translation>
    </message>
    <message>
        <source>REST</source>
        <translation>REST</translation>
    </message>
    <message>
        <source>MQTT</source>
        <translation>MQTT</translation>
    </message>
    <message>
        <source>The CA file %1 does not exist or cannot be read.</source>
        <translation>Die CA-Datei %1 existiert nicht oder ist nicht lesbar.</translation>
    </message>
    <message>
        <source>The CA file %1 holds no PEM certificate.</source>
        <translation>Die CA-Datei %1 enthält kein PEM-Zertifikat.</translation>
    </message>
    <message>
        <source>The settings file %1 could not be written, so the hub was not added.</source>
        <translation>Die Einstellungsdatei %1 konnte nicht geschrieben werden; der Hub wurde daher nicht hinzugefügt.</translation>
    </message>
    <message>
        <source>There is no hub named &quot;%1&quot;.</source>
        <translation>Es gibt keinen Hub namens „%1“.</translation>
    </message>
    <message>
        <source>The hub &quot;%1&quot; was kept because its key could not be removed from the keychain: %2</source>
        <translation>Der Hub „%1“ wurde behalten, weil sein Schlüssel nicht aus dem Schlüsselbund entfernt werden konnte: %2</translation>
    </message>
    <message>
        <source>The hub&apos;s key was removed from the keychain, but the settings file %1 could not be written, so the hub is still listed.</source>
        <translation>Der Schlüssel des Hubs wurde aus dem Schlüsselbund entfernt, aber die Einstellungsdatei %1 konnte nicht geschrieben werden; der Hub steht daher noch in der Liste.</translation>
    </message>
    <message>
        <source>The keychain has no connection string for hub &quot;%1&quot;. Remove the hub and add it again.</source>
        <translation>Der Schlüsselbund enthält keine Verbindungszeichenfolge für den Hub „%1“. Entfernen Sie den Hub und fügen Sie ihn erneut hinzu.</translation>
    </message>
</context>
<context>
    <name>Onboarder::HubsPage</name>
    <message>
        <source>Add Hub…</source>
        <translation>Hub hinzufügen…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Make Current</source>
        <translation>Zum aktuellen machen</translation>
    </message>
    <message>
        <source>Hubs</source>
        <translation>Hubs</translation>
    </message>
    <message>
        <source>The IoT hubs this computer works with. Their connection strings are kept in the system keychain, never in files.</source>
        <translation>Die IoT Hubs, mit denen dieser Computer arbeitet. Ihre Verbindungszeichenfolgen liegen im Schlüsselbund des Systems, nie in Dateien.</translation>
    </message>
    <message>
        <source>Pages and command-line calls without --hub work on the current hub</source>
        <translation>Seiten und Kommandozeilenaufrufe ohne --hub arbeiten mit dem aktuellen Hub</translation>
    </message>
    <message>
        <source>No hubs yet</source>
        <translation>Noch keine Hubs</translation>
    </message>
    <message>
        <source>Add a hub by pasting the connection string of one of its shared access policies (for example iothubowner), from the Azure portal or from the sandbox hub.</source>
        <translation>Fügen Sie einen Hub hinzu, indem Sie die Verbindungszeichenfolge einer seiner freigegebenen Zugriffsrichtlinien (zum Beispiel iothubowner) einfügen, aus dem Azure-Portal oder vom Sandbox-Hub.</translation>
    </message>
    <message>
        <source>Select a hub to see where its key is kept.</source>
        <translation>Wählen Sie einen Hub, um zu sehen, wo sein Schlüssel liegt.</translation>
    </message>
    <message>
        <source>%1 · %2 · REST port %3 · MQTT port %4 · key in the keychain as &quot;%5&quot;</source>
        <translation>%1 · %2 · REST-Port %3 · MQTT-Port %4 · Schlüssel im Schlüsselbund als „%5“</translation>
    </message>
    <message>
        <source> · trusts %1</source>
        <translation> · vertraut der CA in %1</translation>
    </message>
    <message>
        <source>Added hub &quot;%1&quot;; its key is in the system keychain.</source>
        <translation>Hub „%1“ hinzugefügt; sein Schlüssel liegt im Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>Remove Hub</source>
        <translation>Hub entfernen</translation>
    </message>
    <message>
        <source>Remove the hub &quot;%1&quot; from this computer?

Its connection string is deleted from the keychain. The hub and its devices in Azure are not touched.</source>
        <translation>Den Hub „%1“ von diesem Computer entfernen?

Seine Verbindungszeichenfolge wird aus dem Schlüsselbund gelöscht. Der Hub und seine Geräte in Azure bleiben unverändert.</translation>
    </message>
    <message>
        <source>Removed hub &quot;%1&quot;.</source>
        <translation>Hub „%1“ entfernt.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is now the current hub.</source>
        <translation>„%1“ ist jetzt der aktuelle Hub.</translation>
    </message>
</context>
<context>
    <name>Onboarder::Identifiers</name>
    <message>
        <source>The device ID is empty.</source>
        <translation>Die Geräte-ID ist leer.</translation>
    </message>
    <message>
        <source>The device ID is %1 characters long; at most %2 are allowed.</source>
        <translation>Die Geräte-ID ist %1 Zeichen lang; höchstens %2 sind erlaubt.</translation>
    </message>
    <message>
        <source>The device ID contains %1 at position %2. Only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ &apos; are allowed.</source>
        <translation>Die Geräte-ID enthält %1 an Position %2. Nur ASCII-Buchstaben, Ziffern und die Zeichen - : . + % _ # * ? ! ( ) , = @ ; $ &apos; sind erlaubt.</translation>
    </message>
    <message>
        <source>The module ID is empty.</source>
        <translation>Die Modul-ID ist leer.</translation>
    </message>
    <message>
        <source>The module ID is %1 characters long; at most %2 are allowed.</source>
        <translation>Die Modul-ID ist %1 Zeichen lang; höchstens %2 sind erlaubt.</translation>
    </message>
    <message>
        <source>The module ID contains %1 at position %2. Only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ &apos; are allowed.</source>
        <translation>Die Modul-ID enthält %1 an Position %2. Nur ASCII-Buchstaben, Ziffern und die Zeichen - : . + % _ # * ? ! ( ) , = @ ; $ &apos; sind erlaubt.</translation>
    </message>
    <message>
        <source>The shared access policy name is empty.</source>
        <translation>Der Name der freigegebenen Zugriffsrichtlinie ist leer.</translation>
    </message>
    <message>
        <source>The shared access policy name is %1 characters long; at most %2 are allowed.</source>
        <translation>Der Name der freigegebenen Zugriffsrichtlinie ist %1 Zeichen lang; höchstens %2 sind erlaubt.</translation>
    </message>
    <message>
        <source>The shared access policy name contains %1 at position %2. Only ASCII letters, digits and _ - @ . are allowed.</source>
        <translation>Der Name der freigegebenen Zugriffsrichtlinie enthält %1 an Position %2. Nur ASCII-Buchstaben, Ziffern und die Zeichen _ - @ . sind erlaubt.</translation>
    </message>
    <message>
        <source>The host name is empty.</source>
        <translation>Der Hostname ist leer.</translation>
    </message>
    <message>
        <source>The host name is %1 characters long; at most %2 are allowed.</source>
        <translation>Der Hostname ist %1 Zeichen lang; höchstens %2 sind erlaubt.</translation>
    </message>
    <message>
        <source>The host name contains %1 at position %2. Only ASCII letters, digits and _ - . are allowed.</source>
        <translation>Der Hostname enthält %1 an Position %2. Nur ASCII-Buchstaben, Ziffern und die Zeichen _ - . sind erlaubt.</translation>
    </message>
    <message>
        <source>The hub name is empty.</source>
        <translation>Der Hub-Name ist leer.</translation>
    </message>
    <message>
        <source>The hub name is %1 characters long; at most %2 are allowed.</source>
        <translation>Der Hub-Name ist %1 Zeichen lang; höchstens %2 sind erlaubt.</translation>
    </message>
    <message>
        <source>The hub name contains %1 at position %2. Only ASCII letters, digits and . _ - are allowed.</source>
        <translation>Der Hub-Name enthält %1 an Position %2. Nur ASCII-Buchstaben, Ziffern und die Zeichen . _ - sind erlaubt.</translation>
    </message>
    <message>
        <source>The hub name starts with %1; it must start with an ASCII letter or digit.</source>
        <translation>Der Hub-Name beginnt mit %1; er muss mit einem ASCII-Buchstaben oder einer Ziffer beginnen.</translation>
    </message>
    <message>
        <source>The host name has no dot. It must be the hub&apos;s full name, for example myhub.azure-devices.net.</source>
        <translation>Der Hostname enthält keinen Punkt. Er muss der vollständige Name des Hubs sein, zum Beispiel myhub.azure-devices.net.</translation>
    </message>
    <message>
        <source>The host name has an empty part: it must not start or end with a dot, nor contain two dots in a row.</source>
        <translation>Der Hostname hat einen leeren Teil: kein Punkt am Anfang oder Ende, keine zwei Punkte hintereinander.</translation>
    </message>
</context>
<context>
    <name>Onboarder::MainWindow</name>
    <message>
        <source>Pages</source>
        <translation>Seiten</translation>
    </message>
    <message>
        <source>Hubs</source>
        <translation>Hubs</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Add Hub…</source>
        <translation>Hub &amp;hinzufügen…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Onboarder</source>
        <translation>&amp;Über Onboarder</translation>
    </message>
    <message>
        <source>Onboarder</source>
        <translation>Onboarder</translation>
    </message>
    <message>
        <source>%1 — Onboarder</source>
        <translation>%1 — Onboarder</translation>
    </message>
    <message>
        <source>About Onboarder</source>
        <translation>Über Onboarder</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Onboarder %1&lt;/h3&gt;&lt;p&gt;Onboards and monitors Azure IoT Hub devices: registers them, gives them credentials, writes those into nRF91 modems and relays their telemetry.&lt;/p&gt;&lt;p&gt;Keys and connection strings are kept in the system keychain only.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Onboarder %1&lt;/h3&gt;&lt;p&gt;Richtet Geräte für Azure IoT Hub ein und überwacht sie: registriert sie, gibt ihnen Anmeldedaten, schreibt diese in nRF91-Modems und leitet ihre Telemetrie weiter.&lt;/p&gt;&lt;p&gt;Schlüssel und Verbindungszeichenfolgen liegen ausschließlich im Schlüsselbund des Systems.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>Geräte</translation>
    </message>
</context>
<context>
    <name>Onboarder::MqttClient</name>
    <message>
        <source>unacceptable protocol version</source>
        <translation>Protokollversion nicht akzeptiert</translation>
    </message>
    <message>
        <source>client identifier rejected</source>
        <translation>Client-ID abgelehnt</translation>
    </message>
    <message>
        <source>server unavailable</source>
        <translation>Server nicht verfügbar</translation>
    </message>
    <message>
        <source>bad user name or password</source>
        <translation>falscher Benutzername oder falsches Passwort</translation>
    </message>
    <message>
        <source>not authorised</source>
        <translation>nicht autorisiert</translation>
    </message>
    <message>
        <source>refused</source>
        <translation>abgelehnt</translation>
    </message>
    <message>
        <source>unknown reason</source>
        <translation>unbekannter Grund</translation>
    </message>
    <message>
        <source>unspecified error</source>
        <translation>nicht näher bezeichneter Fehler</translation>
    </message>
    <message>
        <source>protocol error</source>
        <translation>Protokollfehler</translation>
    </message>
    <message>
        <source>unsupported protocol version</source>
        <translation>Protokollversion nicht unterstützt</translation>
    </message>
    <message>
        <source>client identifier not valid</source>
        <translation>Client-ID ungültig</translation>
    </message>
    <message>
        <source>server busy</source>
        <translation>Server ausgelastet</translation>
    </message>
    <message>
        <source>banned</source>
        <translation>gesperrt</translation>
    </message>
    <message>
        <source>server shutting down</source>
        <translation>Server wird heruntergefahren</translation>
    </message>
    <message>
        <source>bad authentication method</source>
        <translation>falsche Authentifizierungsmethode</translation>
    </message>
    <message>
        <source>keep-alive timeout</source>
        <translation>Keep-Alive-Zeitüberschreitung</translation>
    </message>
    <message>
        <source>another connection took over the session</source>
        <translation>eine andere Verbindung hat die Sitzung übernommen</translation>
    </message>
    <message>
        <source>topic filter not valid</source>
        <translation>Topic-Filter ungültig</translation>
    </message>
    <message>
        <source>topic name not valid</source>
        <translation>Topic-Name ungültig</translation>
    </message>
    <message>
        <source>packet too large</source>
        <translation>Paket zu groß</translation>
    </message>
    <message>
        <source>quota exceeded</source>
        <translation>Kontingent überschritten</translation>
    </message>
    <message>
        <source>QoS not supported</source>
        <translation>QoS nicht unterstützt</translation>
    </message>
    <message>
        <source>connection rate exceeded</source>
        <translation>Verbindungsrate überschritten</translation>
    </message>
    <message>
        <source>MQTT %1 code 0x%2</source>
        <translation>MQTT-%1-Code 0x%2</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>return</source>
        <translation>Return</translation>
    </message>
    <message>
        <source>MQTT return code %1</source>
        <translation>MQTT-Return-Code %1</translation>
    </message>
    <message>
        <source>The broker at %1 refused the connection: %2 (%3).</source>
        <translation>Der Broker unter %1 hat die Verbindung abgelehnt: %2 (%3).</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a topic one can publish to: a topic is 1 to 65535 bytes and has no wildcards (+, #).</source>
        <translation>„%1“ ist kein Topic, an das veröffentlicht werden kann: Ein Topic ist 1 bis 65535 Bytes lang und enthält keine Platzhalter (+, #).</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a valid topic filter: + must stand for a whole level, and # for the last level only.</source>
        <translation>„%1“ ist kein gültiger Topic-Filter: + muss für eine ganze Ebene stehen und # nur für die letzte Ebene.</translation>
    </message>
    <message>
        <source>QoS %1 is not supported; use 0 or 1.</source>
        <translation>QoS %1 wird nicht unterstützt; verwenden Sie 0 oder 1.</translation>
    </message>
    <message>
        <source>Could not write the client certificate for the MQTT connection to %1: %2.</source>
        <translation>Das Client-Zertifikat für die MQTT-Verbindung zu %1 konnte nicht geschrieben werden: %2.</translation>
    </message>
    <message>
        <source>The client certificate is not a PEM certificate.</source>
        <translation>Das Client-Zertifikat ist kein PEM-Zertifikat.</translation>
    </message>
    <message>
        <source>The client certificate &quot;%1&quot; does not belong to the private key given with it.</source>
        <translation>Das Client-Zertifikat „%1“ gehört nicht zu dem mitgegebenen privaten Schlüssel.</translation>
    </message>
    <message>
        <source>No MQTT broker host name is set.</source>
        <translation>Für den MQTT-Broker ist kein Hostname festgelegt.</translation>
    </message>
    <message>
        <source>A client certificate can only be used with TLS; turn TLS on.</source>
        <translation>Ein Client-Zertifikat kann nur mit TLS verwendet werden; schalten Sie TLS ein.</translation>
    </message>
    <message>
        <source>The CA file %1 does not exist or cannot be read.</source>
        <translation>Die CA-Datei %1 existiert nicht oder ist nicht lesbar.</translation>
    </message>
    <message>
        <source>Cannot connect to %1 as &quot;%2&quot;: %3.</source>
        <translation>Verbindung zu %1 als „%2“ nicht möglich: %3.</translation>
    </message>
    <message>
        <source>Cannot connect to %1: %2.</source>
        <translation>Verbindung zu %1 nicht möglich: %2.</translation>
    </message>
    <message>
        <source>Could not create a private directory in %1 for the client certificate: %2.</source>
        <translation>In %1 konnte kein privates Verzeichnis für das Client-Zertifikat angelegt werden: %2.</translation>
    </message>
    <message>
        <source>The certificate of the broker at %1 failed verification (%2): it is not issued by a trusted CA, or it has expired. Check the CA file.</source>
        <translation>Das Zertifikat des Brokers unter %1 hat die Prüfung nicht bestanden (%2): Es ist nicht von einer vertrauenswürdigen CA ausgestellt oder abgelaufen. Prüfen Sie die CA-Datei.</translation>
    </message>
    <message>
        <source>The TLS handshake with the broker at %1 failed: %2.</source>
        <translation>Der TLS-Handshake mit dem Broker unter %1 ist fehlgeschlagen: %2.</translation>
    </message>
    <message>
        <source>The broker at %1 did not answer within %2 seconds.</source>
        <translation>Der Broker unter %1 hat nicht innerhalb von %2 Sekunden geantwortet.</translation>
    </message>
    <message>
        <source>The broker at %1 cannot be reached.</source>
        <translation>Der Broker unter %1 ist nicht erreichbar.</translation>
    </message>
    <message>
        <source>The connection to the broker at %1 was lost.</source>
        <translation>Die Verbindung zum Broker unter %1 ist abgebrochen.</translation>
    </message>
    <message>
        <source>The broker at %1 closed the connection: %2 (%3).</source>
        <translation>Der Broker unter %1 hat die Verbindung geschlossen: %2 (%3).</translation>
    </message>
    <message>
        <source>The broker refused message %1: %2 (%3).</source>
        <translation>Der Broker hat die Nachricht %1 abgelehnt: %2 (%3).</translation>
    </message>
    <message>
        <source>Message %1 could not be sent: %2.</source>
        <translation>Die Nachricht %1 konnte nicht gesendet werden: %2.</translation>
    </message>
    <message>
        <source>The broker refused the subscription to %1: %2 (%3).</source>
        <translation>Der Broker hat das Abonnement von %1 abgelehnt: %2 (%3).</translation>
    </message>
    <message>
        <source>The subscription to %1 could not be sent: %2.</source>
        <translation>Das Abonnement von %1 konnte nicht gesendet werden: %2.</translation>
    </message>
    <message>
        <source>Unsubscribing from %1 failed: %2.</source>
        <translation>Das Abbestellen von %1 ist fehlgeschlagen: %2.</translation>
    </message>
    <message>
        <source>User properties need MQTT 5; this connection uses MQTT 3.1.1.</source>
        <translation>Benutzereigenschaften (User Properties) erfordern MQTT 5; diese Verbindung verwendet MQTT 3.1.1.</translation>
    </message>
    <message>
        <source>The message is too large for MQTT (%1 bytes).</source>
        <translation>Die Nachricht ist zu groß für MQTT (%1 Bytes).</translation>
    </message>
    <message>
        <source>Not connected to the broker: the message to %1 was not sent.</source>
        <translation>Nicht mit dem Broker verbunden: Die Nachricht an %1 wurde nicht gesendet.</translation>
    </message>
    <message>
        <source>The message to %1 could not be sent: %2.</source>
        <translation>Die Nachricht an %1 konnte nicht gesendet werden: %2.</translation>
    </message>
    <message>
        <source>Not connected to the broker: cannot subscribe to %1.</source>
        <translation>Nicht mit dem Broker verbunden: %1 kann nicht abonniert werden.</translation>
    </message>
    <message>
        <source>Not connected to the broker: cannot unsubscribe from %1.</source>
        <translation>Nicht mit dem Broker verbunden: %1 kann nicht abbestellt werden.</translation>
    </message>
    <message>
        <source>The broker at %1 closed the connection without answering. Does it expect TLS?</source>
        <translation>Der Broker unter %1 hat die Verbindung ohne Antwort geschlossen. Erwartet er TLS?</translation>
    </message>
    <message>
        <source>The certificate of the broker at %1 failed verification: it is not valid for the host name &quot;%2&quot;.</source>
        <translation>Das Zertifikat des Brokers unter %1 hat die Prüfung nicht bestanden: Es gilt nicht für den Hostnamen „%2“.</translation>
    </message>
    <message>
        <source>The certificate of the broker at %1 failed verification (%2).</source>
        <translation>Das Zertifikat des Brokers unter %1 hat die Prüfung nicht bestanden (%2).</translation>
    </message>
    <message>
        <source>The broker at %1 closed the TLS connection: it did not accept the client certificate.</source>
        <translation>Der Broker unter %1 hat die TLS-Verbindung geschlossen: Er hat das Client-Zertifikat nicht akzeptiert.</translation>
    </message>
    <message>
        <source>The broker at %1 closed the TLS connection: it may require a client certificate.</source>
        <translation>Der Broker unter %1 hat die TLS-Verbindung geschlossen: Möglicherweise verlangt er ein Client-Zertifikat.</translation>
    </message>
</context>
<context>
    <name>Onboarder::SasToken</name>
    <message>
        <source>The resource URI of the token is empty.</source>
        <translation>Der Ressourcen-URI des Tokens ist leer.</translation>
    </message>
    <message>
        <source>The expiry of the token must be seconds since 1970, not a negative number.</source>
        <translation>Der Ablaufzeitpunkt des Tokens muss in Sekunden seit 1970 angegeben sein, nicht als negative Zahl.</translation>
    </message>
    <message>
        <source>The shared access key is not valid base64. A key is base64 text such as the Azure portal shows, usually 44 characters ending in &quot;=&quot;.</source>
        <translation>Der Zugriffsschlüssel ist kein gültiges Base64, wie es das Azure-Portal zeigt: meist 44 Zeichen mit „=“ am Ende.</translation>
    </message>
    <message>
        <source>This is not a Shared Access Signature token. A token starts with &quot;SharedAccessSignature &quot; followed by the fields sr, sig and se, separated by &quot;&amp;&quot;.</source>
        <translation>Das ist kein SAS-Token (Shared Access Signature). Ein Token beginnt mit „SharedAccessSignature “, gefolgt von den Feldern sr, sig und se, getrennt durch „&amp;“.</translation>
    </message>
    <message>
        <source>The token contains white space after &quot;SharedAccessSignature &quot;; a token has exactly one space, after that word.</source>
        <translation>Das Token enthält Leerzeichen nach „SharedAccessSignature “; ein Token hat genau ein Leerzeichen, nach diesem Wort.</translation>
    </message>
    <message>
        <source>Field %1 of the token is empty; fields are separated by a single &quot;&amp;&quot;.</source>
        <translation>Feld %1 des Tokens ist leer; Felder werden durch ein einzelnes „&amp;“ getrennt.</translation>
    </message>
    <message>
        <source>Field %1 of the token is not of the form name=value.</source>
        <translation>Feld %1 des Tokens hat nicht die Form name=wert.</translation>
    </message>
    <message>
        <source>Field %1 of the token is unknown; only sr, sig, se and skn are allowed (in lower case).</source>
        <translation>Feld %1 des Tokens ist unbekannt; erlaubt sind nur sr, sig, se und skn (in Kleinbuchstaben).</translation>
    </message>
    <message>
        <source>The token has an unknown field &quot;%1&quot;; only sr, sig, se and skn are allowed (in lower case).</source>
        <translation>Das Token hat ein unbekanntes Feld „%1“; erlaubt sind nur sr, sig, se und skn (in Kleinbuchstaben).</translation>
    </message>
    <message>
        <source>The token has the field &quot;%1&quot; more than once.</source>
        <translation>Das Token enthält das Feld „%1“ mehrmals.</translation>
    </message>
    <message>
        <source>The field &quot;%1&quot; of the token is empty.</source>
        <translation>Das Feld „%1“ des Tokens ist leer.</translation>
    </message>
    <message>
        <source>The field &quot;%1&quot; of the token has a &quot;%&quot; that is not followed by two hex digits.</source>
        <translation>Das Feld „%1“ des Tokens enthält ein „%“, auf das keine zwei Hexadezimalziffern folgen.</translation>
    </message>
    <message>
        <source>The token has no field &quot;%1&quot;; sr, sig and se are required.</source>
        <translation>Dem Token fehlt das Feld „%1“; sr, sig und se sind erforderlich.</translation>
    </message>
    <message>
        <source>The expiry (se) of the token must be whole seconds since 1970, written as decimal digits without sign or leading zeros.</source>
        <translation>Der Ablaufzeitpunkt (se) muss ganze Sekunden seit 1970 angeben, als Ziffern ohne Vorzeichen und führende Nullen.</translation>
    </message>
</context>
<context>
    <name>Onboarder::SecretStore</name>
    <message>
        <source>The keychain has no entry named &quot;%1&quot;.</source>
        <translation>Der Schlüsselbund hat keinen Eintrag namens „%1“.</translation>
    </message>
    <message>
        <source>The system keychain refused access (%1). Unlock it and try again; nothing was stored elsewhere.</source>
        <translation>Der Schlüsselbund des Systems hat den Zugriff verweigert (%1). Entsperren Sie ihn und versuchen Sie es erneut; nichts wurde anderswo gespeichert.</translation>
    </message>
    <message>
        <source>No system keychain is available (%1). Onboarder keeps keys only in the keychain (GNOME Keyring, KWallet or another Secret Service), so nothing was stored.</source>
        <translation>Kein Schlüsselbund des Systems verfügbar (%1). Onboarder bewahrt Schlüssel nur im Schlüsselbund auf (GNOME-Schlüsselbund, KWallet oder ein anderer Secret Service), daher wurde nichts gespeichert.</translation>
    </message>
    <message>
        <source>The system keychain failed: %1. Onboarder keeps keys only in the keychain, so nothing was stored elsewhere.</source>
        <translation>Der Schlüsselbund des Systems meldet einen Fehler: %1. Onboarder bewahrt Schlüssel nur im Schlüsselbund auf, daher wurde nichts anderswo gespeichert.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be used as a keychain entry name.</source>
        <translation>„%1“ kann nicht als Name eines Schlüsselbund-Eintrags verwendet werden.</translation>
    </message>
</context>
<context>
    <name>OpenPgpEncryptor</name>
    <message>
        <source>OpenPGP encryption failed while %1: %2</source>
        <translation>Die OpenPGP-Verschlüsselung schlug fehl beim %1: %2</translation>
    </message>
    <message>
        <source>it is revoked</source>
        <translation>er ist widerrufen</translation>
    </message>
    <message>
        <source>it has expired</source>
        <translation>er ist abgelaufen</translation>
    </message>
    <message>
        <source>it is disabled</source>
        <translation>er ist deaktiviert</translation>
    </message>
    <message>
        <source>it is invalid</source>
        <translation>er ist ungültig</translation>
    </message>
    <message>
        <source>it has no valid encryption subkey</source>
        <translation>er hat keinen gültigen Unterschlüssel zum Verschlüsseln</translation>
    </message>
    <message>
        <source>The key %1 (%2) cannot be encrypted to: %3.</source>
        <translation>An den Schlüssel %1 (%2) kann nicht verschlüsselt werden: %3.</translation>
    </message>
    <message>
        <source>GnuPG (gpg) is not installed or too old, so nothing can be encrypted with OpenPGP.</source>
        <translation>GnuPG (gpg) ist nicht installiert oder zu alt; mit OpenPGP lässt sich daher nichts verschlüsseln.</translation>
    </message>
    <message>
        <source>Name the recipient: a public key file (.asc), or a fingerprint or e-mail address in your GnuPG keyring.</source>
        <translation>Nennen Sie den Empfänger: eine Datei mit öffentlichem Schlüssel (.asc) oder einen Fingerabdruck bzw. eine E-Mail-Adresse aus Ihrem GnuPG-Schlüsselbund.</translation>
    </message>
    <message>
        <source>starting GPGME</source>
        <translation>Starten von GPGME</translation>
    </message>
    <message>
        <source>Cannot read the public key file %1: %2</source>
        <translation>Die Datei mit dem öffentlichen Schlüssel %1 ist nicht lesbar: %2</translation>
    </message>
    <message>
        <source>%1 holds a secret key. Use the recipient&apos;s public key (gpg --armor --export).</source>
        <translation>%1 enthält einen geheimen Schlüssel. Verwenden Sie den öffentlichen Schlüssel des Empfängers (gpg --armor --export).</translation>
    </message>
    <message>
        <source>%1 holds no OpenPGP public key.</source>
        <translation>%1 enthält keinen öffentlichen OpenPGP-Schlüssel.</translation>
    </message>
    <message>
        <source>%1 holds %2 public keys; give a file with the one recipient&apos;s key.</source>
        <translation>%1 enthält %2 öffentliche Schlüssel; geben Sie eine Datei mit dem Schlüssel des einen Empfängers an.</translation>
    </message>
    <message>
        <source>searching the keyring</source>
        <translation>Durchsuchen des Schlüsselbunds</translation>
    </message>
    <message>
        <source>Your GnuPG keyring has no public key for &quot;%1&quot;, and there is no such file. Import the recipient&apos;s key (gpg --import) or give the path of their .asc file.</source>
        <translation>Ihr GnuPG-Schlüsselbund hat keinen öffentlichen Schlüssel für „%1“, und eine solche Datei gibt es nicht. Importieren Sie den Schlüssel des Empfängers (gpg --import) oder geben Sie den Pfad seiner .asc-Datei an.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; matches %2 keys in your keyring: %3. Name one by its fingerprint.</source>
        <translation>„%1“ passt zu %2 Schlüsseln in Ihrem Schlüsselbund: %3. Nennen Sie einen über seinen Fingerabdruck.</translation>
    </message>
    <message>
        <source>The key %1 (%2) is not certified in your keyring, so it may not be theirs. Check its fingerprint with the recipient and name the key by that fingerprint.</source>
        <translation>Der Schlüssel %1 (%2) ist in Ihrem Schlüsselbund nicht beglaubigt und gehört daher womöglich nicht dem Empfänger. Prüfen Sie seinen Fingerabdruck mit dem Empfänger und nennen Sie den Schlüssel über diesen Fingerabdruck.</translation>
    </message>
    <message>
        <source>GnuPG refused the key %1 (%2): %3</source>
        <translation>GnuPG hat den Schlüssel %1 (%2) abgelehnt: %3</translation>
    </message>
    <message>
        <source>encrypting</source>
        <translation>Verschlüsseln</translation>
    </message>
    <message>
        <source>GnuPG returned no armoured message.</source>
        <translation>GnuPG hat keine ASCII-geschützte Nachricht geliefert.</translation>
    </message>
</context>
<context>
    <name>Pkcs12</name>
    <message>
        <source>The PKCS#12 file uses an outdated algorithm (RC2 or 3DES) that is no longer supported. Export it again with AES-256 (e.g. openssl pkcs12 -export without -legacy).</source>
        <translation>Die PKCS#12-Datei verwendet einen veralteten Algorithmus (RC2 oder 3DES), der nicht mehr unterstützt wird. Exportieren Sie sie erneut mit AES-256 (z. B. openssl pkcs12 -export ohne -legacy).</translation>
    </message>
    <message>
        <source>The PKCS#12 password needs at least %1 characters.</source>
        <translation>Das PKCS#12-Passwort braucht mindestens %1 Zeichen.</translation>
    </message>
    <message>
        <source>A PKCS#12 file needs a certificate and its key.</source>
        <translation>Eine PKCS#12-Datei braucht ein Zertifikat und seinen Schlüssel.</translation>
    </message>
    <message>
        <source>Could not build the PKCS#12 file: %1</source>
        <translation>Die PKCS#12-Datei konnte nicht erstellt werden: %1</translation>
    </message>
    <message>
        <source>This is not a PKCS#12 (.p12/.pfx) file: %1</source>
        <translation>Das ist keine PKCS#12-Datei (.p12/.pfx): %1</translation>
    </message>
    <message>
        <source>The PKCS#12 file could not be opened: the password is wrong.</source>
        <translation>Die PKCS#12-Datei ließ sich nicht öffnen: Das Passwort ist falsch.</translation>
    </message>
    <message>
        <source>The PKCS#12 file could not be read: %1</source>
        <translation>Die PKCS#12-Datei konnte nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>The PKCS#12 file holds no private key.</source>
        <translation>Die PKCS#12-Datei enthält keinen privaten Schlüssel.</translation>
    </message>
    <message>
        <source>The PKCS#12 file holds no certificate for its private key.</source>
        <translation>Die PKCS#12-Datei enthält kein Zertifikat zu ihrem privaten Schlüssel.</translation>
    </message>
</context>
<context>
    <name>QrCode</name>
    <message>
        <source>There is nothing to put into a QR code.</source>
        <translation>Es gibt nichts, was in einen QR-Code passt.</translation>
    </message>
    <message>
        <source>%1 bytes are too many for one QR code.</source>
        <translation>%1 Bytes sind zu viel für einen QR-Code.</translation>
    </message>
    <message>
        <source>The QR code could not be made (error %1).</source>
        <translation>Der QR-Code konnte nicht erstellt werden (Fehler %1).</translation>
    </message>
</context>
<context>
    <name>RootCertificates</name>
    <message>
        <source>There is no bundled root certificate named &quot;%1&quot;; there are: %2.</source>
        <translation>Es gibt kein mitgeliefertes Stammzertifikat namens „%1“; vorhanden sind: %2.</translation>
    </message>
    <message>
        <source>The bundled root certificate %1 is missing from this build.</source>
        <translation>Das mitgelieferte Stammzertifikat %1 fehlt in diesem Build.</translation>
    </message>
</context>
<context>
    <name>SecretExport</name>
    <message>
        <source>Writing a secret unencrypted needs the user&apos;s explicit confirmation; nothing was written.</source>
        <translation>Ein Geheimnis unverschlüsselt zu schreiben erfordert die ausdrückliche Bestätigung des Benutzers; es wurde nichts geschrieben.</translation>
    </message>
</context>
<context>
    <name>SecureFile</name>
    <message>
        <source>No output file was given.</source>
        <translation>Es wurde keine Ausgabedatei angegeben.</translation>
    </message>
    <message>
        <source>%1 exists already; choose another name or remove it first. Nothing was written.</source>
        <translation>%1 existiert bereits; wählen Sie einen anderen Namen oder entfernen Sie die Datei zuerst. Es wurde nichts geschrieben.</translation>
    </message>
    <message>
        <source>Cannot create %1: the folder %2 does not exist or is not writable.</source>
        <translation>%1 kann nicht angelegt werden: Der Ordner %2 existiert nicht oder ist nicht beschreibbar.</translation>
    </message>
    <message>
        <source>Cannot create %1: %2</source>
        <translation>%1 kann nicht angelegt werden: %2</translation>
    </message>
    <message>
        <source>Cannot write %1: %2. The incomplete file was removed.</source>
        <translation>%1 kann nicht geschrieben werden: %2. Die unvollständige Datei wurde entfernt.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Onboard and monitor Azure IoT Hub devices.</source>
        <translation>Geräte für Azure IoT Hub einrichten und überwachen.</translation>
    </message>
</context>
</TS>
