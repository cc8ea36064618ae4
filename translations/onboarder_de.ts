<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AtCommandPolicy</name>
    <message>
        <source>AT commands start with &quot;AT&quot;.</source>
        <translation>AT-Befehle beginnen mit &quot;AT&quot;.</translation>
    </message>
    <message>
        <source>One command at a time, on one line.</source>
        <translation>Nur ein Befehl auf einmal, in einer Zeile.</translation>
    </message>
    <message>
        <source>Credentials are not written from the terminal: the content would stay in its history. Use Write from File… on the Credentials tab (or `onboarder-cli modem creds write`).</source>
        <translation>Anmeldedaten werden nicht über das Terminal geschrieben: Der Inhalt bliebe in dessen Verlauf. Verwenden Sie „Aus Datei schreiben…“ auf dem Reiter „Anmeldedaten“ (oder `onboarder-cli modem creds write`).</translation>
    </message>
    <message>
        <source>This deletes a credential from the modem.</source>
        <translation>Dies löscht Anmeldedaten aus dem Modem.</translation>
    </message>
    <message>
        <source>A SIM PIN is not entered from the terminal: it would stay in its history.</source>
        <translation>Eine SIM-PIN wird nicht über das Terminal eingegeben: Sie bliebe in dessen Verlauf.</translation>
    </message>
    <message>
        <source>This changes the modem&apos;s functional mode (its radio and SIM): a device in the field may drop off the network.</source>
        <translation>Dies ändert den Funktionsmodus des Modems (Funk und SIM): Ein Gerät im Feld kann dabei die Netzverbindung verlieren.</translation>
    </message>
    <message>
        <source>This resets the modem to its factory settings: credentials and settings may be lost.</source>
        <translation>Dies setzt das Modem auf die Werkseinstellungen zurück: Anmeldedaten und Einstellungen können verloren gehen.</translation>
    </message>
    <message>
        <source>This makes a new key in the modem, replacing what a tag holds.</source>
        <translation>Dies erzeugt einen neuen Schlüssel im Modem und ersetzt, was ein Tag enthält.</translation>
    </message>
    <message>
        <source>This changes the LTE modes the modem may use.</source>
        <translation>Dies ändert die LTE-Modi, die das Modem verwenden darf.</translation>
    </message>
    <message>
        <source>This changes a setting of the modem.</source>
        <translation>Dies ändert eine Einstellung des Modems.</translation>
    </message>
    <message>
        <source>One command at a time: commands chained with &quot;;&quot; are not sent.</source>
        <translation>Ein Befehl nach dem anderen: Mit &quot;;&quot; verkettete Befehle werden nicht gesendet.</translation>
    </message>
    <message>
        <source>Passwords are not entered from the terminal: they would stay in its history.</source>
        <translation>Passwörter werden nicht im Terminal eingegeben: Sie blieben in seinem Verlauf.</translation>
    </message>
</context>
<context>
    <name>AuditLog</name>
    <message>
        <source>Cannot rotate the audit log in %1.</source>
        <translation>Das Prüfprotokoll in %1 kann nicht rotiert werden.</translation>
    </message>
    <message>
        <source>An audit record that looks like it holds a secret was not written.</source>
        <translation>Ein Prüfeintrag, der anscheinend ein Geheimnis enthält, wurde nicht geschrieben.</translation>
    </message>
    <message>
        <source>Cannot create the audit log folder %1.</source>
        <translation>Der Ordner %1 für das Prüfprotokoll kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Cannot open the audit log %1: %2</source>
        <translation>Das Prüfprotokoll %1 kann nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>Cannot read the audit log %1: %2</source>
        <translation>Das Prüfprotokoll %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Cannot write the audit log %1: %2</source>
        <translation>Das Prüfprotokoll %1 kann nicht geschrieben werden: %2</translation>
    </message>
</context>
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
    <message>
        <source>&quot;%1&quot; does not look like a verification code: the portal&apos;s are letters and digits (up to 64).</source>
        <translation>„%1“ sieht nicht wie ein Verifizierungscode aus: Die Codes des Portals bestehen aus Buchstaben und Ziffern (bis zu 64).</translation>
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
        <source>HEX</source>
        <translation>HEX</translation>
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
        <source>With the secondary key.</source>
        <translation>Mit dem sekundären Schlüssel.</translation>
    </message>
    <message>
        <source>Print the key itself (mind who sees your terminal).</source>
        <translation>Den Schlüssel selbst ausgeben (achten Sie darauf, wer Ihr Terminal sieht).</translation>
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
        <source>Twin updated; its ETag is now %1.</source>
        <translation>Zwilling aktualisiert; sein ETag ist jetzt %1.</translation>
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
    <message>
        <source>The hub profile the device belongs to (default: the global --hub, else the current hub).</source>
        <translation>Das Hub-Profil, zu dem das Gerät gehört (Standard: das globale --hub, sonst der aktuelle Hub).</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Subjekt</translation>
    </message>
    <message>
        <source>Issuer</source>
        <translation>Aussteller</translation>
    </message>
    <message>
        <source>SHA-1 thumbprint</source>
        <translation>SHA-1-Fingerabdruck</translation>
    </message>
    <message>
        <source>SHA-256 thumbprint</source>
        <translation>SHA-256-Fingerabdruck</translation>
    </message>
    <message>
        <source>Valid from</source>
        <translation>Gültig ab</translation>
    </message>
    <message>
        <source>Valid until</source>
        <translation>Gültig bis</translation>
    </message>
    <message>
        <source>Certificate</source>
        <translation>Zertifikat</translation>
    </message>
    <message>
        <source>Private key</source>
        <translation>Privater Schlüssel</translation>
    </message>
    <message>
        <source>keychain entry %1</source>
        <translation>Schlüsselbund-Eintrag %1</translation>
    </message>
    <message>
        <source>%1 (again)</source>
        <translation>%1 (noch einmal)</translation>
    </message>
    <message>
        <source>The two passwords differ; nothing was exported.</source>
        <translation>Die beiden Passwörter unterscheiden sich; es wurde nichts exportiert.</translation>
    </message>
    <message>
        <source>Makes a device&apos;s key pair and X.509 certificate (CN = the device id): self-signed, or signed by an imported CA (--ca). The private key goes into the system keychain only; the certificate into the app&apos;s data folder. Register a self-signed one with: device create ID --auth x509-self-signed --thumbprint &lt;SHA-1&gt;.</source>
        <translation>Erstellt das Schlüsselpaar und X.509-Zertifikat eines Geräts (CN = die Geräte-ID): selbstsigniert oder von einer importierten CA signiert (--ca). Der private Schlüssel kommt nur in den Schlüsselbund des Systems, das Zertifikat in den Datenordner der App. Ein selbstsigniertes Gerät registrieren Sie mit: device create ID --auth x509-self-signed --thumbprint &lt;SHA-1&gt;.</translation>
    </message>
    <message>
        <source>ec-p256 (default; what the nRF9160 uses), rsa-2048 or rsa-3072.</source>
        <translation>ec-p256 (Standard; verwendet das nRF9160), rsa-2048 oder rsa-3072.</translation>
    </message>
    <message>
        <source>Days the certificate is valid (default 365).</source>
        <translation>Gültigkeitsdauer des Zertifikats in Tagen (Standard 365).</translation>
    </message>
    <message>
        <source>Sign with this imported CA instead of self-signing (see cred import-ca).</source>
        <translation>Mit dieser importierten CA signieren statt selbst zu signieren (siehe cred import-ca).</translation>
    </message>
    <message>
        <source>Replace the device&apos;s existing credential; its private key is deleted.</source>
        <translation>Die vorhandenen Anmeldedaten des Geräts ersetzen; ihr privater Schlüssel wird gelöscht.</translation>
    </message>
    <message>
        <source>--type is ec-p256, rsa-2048 or rsa-3072, not &quot;%1&quot;.</source>
        <translation>--type ist ec-p256, rsa-2048 oder rsa-3072, nicht „%1“.</translation>
    </message>
    <message>
        <source>Made a new key pair (%1) and a self-signed certificate for &quot;%2&quot;.</source>
        <translation>Neues Schlüsselpaar (%1) und selbstsigniertes Zertifikat für „%2“ erstellt.</translation>
    </message>
    <message>
        <source>Made a new key pair (%1) and a certificate for &quot;%2&quot; signed by CA &quot;%3&quot;.</source>
        <translation>Neues Schlüsselpaar (%1) und ein von der CA „%3“ signiertes Zertifikat für „%2“ erstellt.</translation>
    </message>
    <message>
        <source>Shows a device&apos;s certificate: PEM, subject, SHA-1 and SHA-256 thumbprints (Azure&apos;s format), validity, and where its key is kept. Never the private key.</source>
        <translation>Zeigt das Zertifikat eines Geräts: PEM, Subjekt, SHA-1- und SHA-256-Fingerabdruck (im Format von Azure), Gültigkeit und wo sein Schlüssel liegt. Nie den privaten Schlüssel.</translation>
    </message>
    <message>
        <source>Hub</source>
        <translation>Hub</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>Schlüssel</translation>
    </message>
    <message>
        <source>%1, on the device only</source>
        <translation>%1, nur auf dem Gerät</translation>
    </message>
    <message>
        <source>%1, keychain entry %2</source>
        <translation>%1, Schlüsselbund-Eintrag %2</translation>
    </message>
    <message>
        <source>Certificate file</source>
        <translation>Zertifikatsdatei</translation>
    </message>
    <message>
        <source>Made</source>
        <translation>Erstellt</translation>
    </message>
    <message>
        <source>Exports a device&apos;s certificate and private key: OpenPGP-encrypted to a recipient (--gpg), or as a password-protected PKCS#12 file (--pkcs12; password on standard input or --password-file). The file is new and readable by you only.</source>
        <translation>Exportiert Zertifikat und privaten Schlüssel eines Geräts: OpenPGP-verschlüsselt für einen Empfänger (--gpg) oder als passwortgeschützte PKCS#12-Datei (--pkcs12; Passwort über die Standardeingabe oder --password-file). Die Datei wird neu angelegt und ist nur für Sie lesbar.</translation>
    </message>
    <message>
        <source>Write a PKCS#12 file (AES-256, PBKDF2).</source>
        <translation>Eine PKCS#12-Datei schreiben (AES-256, PBKDF2).</translation>
    </message>
    <message>
        <source>Read the PKCS#12 password from FILE.</source>
        <translation>Das PKCS#12-Passwort aus DATEI lesen.</translation>
    </message>
    <message>
        <source>The file to write; it must not exist.</source>
        <translation>Die zu schreibende Datei; sie darf noch nicht existieren.</translation>
    </message>
    <message>
        <source>Give either --gpg RECIPIENT or --pkcs12.</source>
        <translation>Entweder --gpg EMPFÄNGER oder --pkcs12 angeben.</translation>
    </message>
    <message>
        <source>Give the file to write with --out FILE.</source>
        <translation>Die zu schreibende Datei mit --out DATEI angeben.</translation>
    </message>
    <message>
        <source>PKCS#12 password</source>
        <translation>PKCS#12-Passwort</translation>
    </message>
    <message>
        <source>Wrote the certificate and key of &quot;%1&quot; to %2 (PKCS#12, AES-256).</source>
        <translation>Zertifikat und Schlüssel von „%1“ in %2 geschrieben (PKCS#12, AES-256).</translation>
    </message>
    <message>
        <source>the certificate and key</source>
        <translation>Zertifikat und Schlüssel</translation>
    </message>
    <message>
        <source>Lists the credentials this computer made or imported: which device has which, where it is kept, since when.</source>
        <translation>Listet die Anmeldedaten auf, die dieser Computer erstellt oder importiert hat: welches Gerät welche hat, wo sie liegen, seit wann.</translation>
    </message>
    <message>
        <source>device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>HUB</source>
        <translation>HUB</translation>
    </message>
    <message>
        <source>DEVICE/CA</source>
        <translation>GERÄT/CA</translation>
    </message>
    <message>
        <source>KIND</source>
        <translation>ART</translation>
    </message>
    <message>
        <source>KEY</source>
        <translation>SCHLÜSSEL</translation>
    </message>
    <message>
        <source>KEY IS IN</source>
        <translation>SCHLÜSSEL LIEGT IN</translation>
    </message>
    <message>
        <source>EXPIRES</source>
        <translation>LÄUFT AB</translation>
    </message>
    <message>
        <source>MADE</source>
        <translation>ERSTELLT</translation>
    </message>
    <message>
        <source>Imports a CA that signs device certificates (IoT Hub &quot;x509-ca&quot; devices): its certificate and key (--cert and --key, PEM or DER; an encrypted key&apos;s password on standard input) or a PKCS#12 file (--pkcs12; its password on standard input). The CA&apos;s key goes into the system keychain only.</source>
        <translation>Importiert eine CA, die Gerätezertifikate signiert (IoT Hub-Geräte vom Typ „x509-ca“): ihr Zertifikat und ihren Schlüssel (--cert und --key, PEM oder DER; das Passwort eines verschlüsselten Schlüssels über die Standardeingabe) oder eine PKCS#12-Datei (--pkcs12; ihr Passwort über die Standardeingabe). Der Schlüssel der CA kommt nur in den Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>A local name for the CA.</source>
        <translation>Ein lokaler Name für die CA.</translation>
    </message>
    <message>
        <source>The CA certificate.</source>
        <translation>Das CA-Zertifikat.</translation>
    </message>
    <message>
        <source>The CA&apos;s private key.</source>
        <translation>Der private Schlüssel der CA.</translation>
    </message>
    <message>
        <source>A PKCS#12 file with certificate and key.</source>
        <translation>Eine PKCS#12-Datei mit Zertifikat und Schlüssel.</translation>
    </message>
    <message>
        <source>Read the password from FILE instead of standard input.</source>
        <translation>Das Passwort aus DATEI statt von der Standardeingabe lesen.</translation>
    </message>
    <message>
        <source>Replace a CA of that name; its private key is deleted.</source>
        <translation>Eine CA dieses Namens ersetzen; ihr privater Schlüssel wird gelöscht.</translation>
    </message>
    <message>
        <source>Give either --cert FILE and --key FILE, or --pkcs12 FILE.</source>
        <translation>Entweder --cert DATEI und --key DATEI oder --pkcs12 DATEI angeben.</translation>
    </message>
    <message>
        <source>Give both --cert FILE and --key FILE.</source>
        <translation>Sowohl --cert DATEI als auch --key DATEI angeben.</translation>
    </message>
    <message>
        <source>Password of the CA key</source>
        <translation>Passwort des CA-Schlüssels</translation>
    </message>
    <message>
        <source>Imported CA &quot;%1&quot; (%2).</source>
        <translation>CA „%1“ importiert (%2).</translation>
    </message>
    <message>
        <source>Signs a device&apos;s certificate signing request (e.g. from the modem&apos;s own key) with an imported CA and keeps the certificate; the private key stays on the device.</source>
        <translation>Signiert die Zertifikatsanforderung eines Geräts (z. B. zum eigenen Schlüssel des Modems) mit einer importierten CA und bewahrt das Zertifikat auf; der private Schlüssel bleibt auf dem Gerät.</translation>
    </message>
    <message>
        <source>The device id; the CSR&apos;s CN must be the same.</source>
        <translation>Die Geräte-ID; der CN im CSR muss mit ihr übereinstimmen.</translation>
    </message>
    <message>
        <source>The imported CA to sign with.</source>
        <translation>Die importierte CA, mit der signiert wird.</translation>
    </message>
    <message>
        <source>The CSR (PEM or DER); default: standard input.</source>
        <translation>Der CSR (PEM oder DER); Standard: die Standardeingabe.</translation>
    </message>
    <message>
        <source>Name the CA to sign with: --ca NAME.</source>
        <translation>Nennen Sie die CA zum Signieren: --ca NAME.</translation>
    </message>
    <message>
        <source>Signed the request of &quot;%1&quot; with CA &quot;%2&quot;.</source>
        <translation>Anforderung von „%1“ mit der CA „%2“ signiert.</translation>
    </message>
    <message>
        <source>Lists the root CAs shipped for Azure IoT Hub&apos;s TLS (what a device must trust), with subject and expiry; --pem prints them.</source>
        <translation>Listet die für TLS von Azure IoT Hub mitgelieferten Stamm-CAs auf (denen ein Gerät vertrauen muss), mit Subjekt und Ablaufdatum; --pem gibt sie aus.</translation>
    </message>
    <message>
        <source>Print the certificates as PEM.</source>
        <translation>Die Zertifikate als PEM ausgeben.</translation>
    </message>
    <message>
        <source> (expired)</source>
        <translation> (abgelaufen)</translation>
    </message>
    <message>
        <source>SUBJECT</source>
        <translation>SUBJEKT</translation>
    </message>
    <message>
        <source>Encrypt to RECIPIENT: a fingerprint or e-mail address in your GnuPG keyring, or the path of their public key file (.asc). Needs --out.</source>
        <translation>Für EMPFÄNGER verschlüsseln: ein Fingerabdruck oder eine E-Mail-Adresse aus Ihrem GnuPG-Schlüsselbund oder der Pfad seiner Datei mit öffentlichem Schlüssel (.asc). Erfordert --out.</translation>
    </message>
    <message>
        <source>RECIPIENT</source>
        <translation>EMPFÄNGER</translation>
    </message>
    <message>
        <source>Wrote %1 of &quot;%2&quot; to %3, encrypted to %4 (%5).</source>
        <translation>%1 von „%2“ in %3 geschrieben, verschlüsselt für %4 (%5).</translation>
    </message>
    <message>
        <source>Device credentials: X.509 key pairs and certificates (keys in the system keychain).</source>
        <translation>Anmeldedaten von Geräten: X.509-Schlüsselpaare und -Zertifikate (Schlüssel im Schlüsselbund des Systems).</translation>
    </message>
    <message>
        <source>Make a device&apos;s key pair and certificate.</source>
        <translation>Schlüsselpaar und Zertifikat eines Geräts erstellen.</translation>
    </message>
    <message>
        <source>Show a device&apos;s certificate and thumbprints.</source>
        <translation>Zertifikat und Fingerabdrücke eines Geräts zeigen.</translation>
    </message>
    <message>
        <source>Export certificate and key (OpenPGP or PKCS#12).</source>
        <translation>Zertifikat und Schlüssel exportieren (OpenPGP oder PKCS#12).</translation>
    </message>
    <message>
        <source>List the credentials made or imported here.</source>
        <translation>Die hier erstellten oder importierten Anmeldedaten auflisten.</translation>
    </message>
    <message>
        <source>Import a CA that signs device certificates.</source>
        <translation>Eine CA importieren, die Gerätezertifikate signiert.</translation>
    </message>
    <message>
        <source>Sign a device&apos;s CSR with an imported CA.</source>
        <translation>Den CSR eines Geräts mit einer importierten CA signieren.</translation>
    </message>
    <message>
        <source>List the bundled Azure root CAs.</source>
        <translation>Die mitgelieferten Azure-Stamm-CAs auflisten.</translation>
    </message>
    <message>
        <source>Write to FILE (new, readable by you only), with --gpg or --unencrypted.</source>
        <translation>In DATEI schreiben (neu, nur für Sie lesbar), mit --gpg oder --unencrypted.</translation>
    </message>
    <message>
        <source>With --out: write the connection string as plain text. Prefer --gpg.</source>
        <translation>Mit --out: die Verbindungszeichenfolge als Klartext schreiben. Besser --gpg verwenden.</translation>
    </message>
    <message>
        <source>Print a QR code of the connection string (needs --reveal: anyone who sees it has the key).</source>
        <translation>Einen QR-Code der Verbindungszeichenfolge ausgeben (erfordert --reveal: Wer ihn sieht, hat den Schlüssel).</translation>
    </message>
    <message>
        <source>--gpg RECIPIENT and --out FILE go together.</source>
        <translation>--gpg EMPFÄNGER und --out DATEI gehören zusammen.</translation>
    </message>
    <message>
        <source>--unencrypted goes with --out FILE and without --gpg.</source>
        <translation>--unencrypted gehört zu --out DATEI und schließt --gpg aus.</translation>
    </message>
    <message>
        <source>A QR code shows the key to anyone who sees it: ask for it with --qr --reveal.</source>
        <translation>Ein QR-Code zeigt den Schlüssel jedem, der ihn sieht: Fordern Sie ihn mit --qr --reveal an.</translation>
    </message>
    <message>
        <source>the connection string</source>
        <translation>Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>The modem&apos;s serial port (default: the AT port of the only nRF91 board found).</source>
        <translation>Der serielle Port des Modems (Standard: der AT-Port des einzigen gefundenen nRF91-Boards).</translation>
    </message>
    <message>
        <source>PATH</source>
        <translation>PATH</translation>
    </message>
    <message>
        <source>Baud rate (default 115200; 8N1).</source>
        <translation>Baudrate (Standard 115200; 8N1).</translation>
    </message>
    <message>
        <source>Open the port without RTS/CTS flow control.</source>
        <translation>Den Port ohne RTS/CTS-Flusssteuerung öffnen.</translation>
    </message>
    <message>
        <source>--type is a number from 0 to 6 or one of root-ca, client-cert, client-key, psk, psk-identity, public-key, identity-public-key; not &quot;%1&quot;.</source>
        <translation>--type ist eine Zahl von 0 bis 6 oder eines von root-ca, client-cert, client-key, psk, psk-identity, public-key, identity-public-key; nicht „%1“.</translation>
    </message>
    <message>
        <source>%1 needs --tag and --type.</source>
        <translation>%1 erfordert --tag und --type.</translation>
    </message>
    <message>
        <source>The security tag (0–2147483647).</source>
        <translation>Das Sicherheits-Tag (0–2147483647).</translation>
    </message>
    <message>
        <source>The credential type: root-ca, client-cert, client-key, psk, psk-identity, public-key, identity-public-key, or its number 0–6.</source>
        <translation>Der Typ der Anmeldedaten: root-ca, client-cert, client-key, psk, psk-identity, public-key, identity-public-key oder seine Nummer 0–6.</translation>
    </message>
    <message>
        <source>T</source>
        <translation>T</translation>
    </message>
    <message>
        <source>0 (minimum: powered down)</source>
        <translation>0 (minimal: ausgeschaltet)</translation>
    </message>
    <message>
        <source>1 (normal: LTE on)</source>
        <translation>1 (normal: LTE an)</translation>
    </message>
    <message>
        <source>4 (offline: RF off)</source>
        <translation>4 (offline: Funk aus)</translation>
    </message>
    <message>
        <source>Lists serial ports: nRF91 boards on USB (nRF9160/9161/9151 DK, nRF9131 EK, Thingy:91, Thingy:91 X) with their AT port, ports listed in %1, and other serial ports.</source>
        <translation>Listet serielle Ports auf: nRF91-Boards an USB (nRF9160/9161/9151 DK, nRF9131 EK, Thingy:91, Thingy:91 X) mit ihrem AT-Port, in %1 eingetragene Ports und weitere serielle Ports.</translation>
    </message>
    <message>
        <source>Confirm each board&apos;s AT port by sending AT to its ports.</source>
        <translation>Den AT-Port jedes Boards bestätigen, indem AT an seine Ports gesendet wird.</translation>
    </message>
    <message>
        <source>No serial ports. Plug the board in; the simulator&apos;s port can be listed in %1.</source>
        <translation>Keine seriellen Ports. Schließen Sie das Board an; der Port des Simulators lässt sich in %1 eintragen.</translation>
    </message>
    <message>
        <source>PORT</source>
        <translation>PORT</translation>
    </message>
    <message>
        <source>BOARD</source>
        <translation>BOARD</translation>
    </message>
    <message>
        <source>ROLE</source>
        <translation>ROLLE</translation>
    </message>
    <message>
        <source>USB</source>
        <translation>USB</translation>
    </message>
    <message>
        <source>SERIAL</source>
        <translation>SERIENNUMMER</translation>
    </message>
    <message>
        <source>DESCRIPTION</source>
        <translation>BESCHREIBUNG</translation>
    </message>
    <message>
        <source>Shows the modem&apos;s identity (IMEI, manufacturer, model, firmware, modem UUID) and functional mode.</source>
        <translation>Zeigt die Identität des Modems (IMEI, Hersteller, Modell, Firmware, Modem-UUID) und seinen Funktionsmodus.</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>IMEI</source>
        <translation>IMEI</translation>
    </message>
    <message>
        <source>Manufacturer</source>
        <translation>Hersteller</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>Firmware</source>
        <translation>Firmware</translation>
    </message>
    <message>
        <source>Modem UUID</source>
        <translation>Modem-UUID</translation>
    </message>
    <message>
        <source>(not reported)</source>
        <translation>(nicht gemeldet)</translation>
    </message>
    <message>
        <source>Functional mode</source>
        <translation>Funktionsmodus</translation>
    </message>
    <message>
        <source>Lists the credentials stored in the modem: security tag, type and the SHA-256 of the stored bytes.</source>
        <translation>Listet die im Modem gespeicherten Anmeldedaten auf: Sicherheits-Tag, Typ und den SHA-256 der gespeicherten Bytes.</translation>
    </message>
    <message>
        <source>Also the modem&apos;s own tags (2147483648 and above).</source>
        <translation>Auch die eigenen Tags des Modems (2147483648 und höher).</translation>
    </message>
    <message>
        <source>--type needs --tag: the modem lists types per tag.</source>
        <translation>--type erfordert --tag: Das Modem listet Typen pro Tag auf.</translation>
    </message>
    <message>
        <source>(not reported by this firmware)</source>
        <translation>(von dieser Firmware nicht gemeldet)</translation>
    </message>
    <message>
        <source>No credentials stored.</source>
        <translation>Keine Anmeldedaten gespeichert.</translation>
    </message>
    <message>
        <source>TAG</source>
        <translation>TAG</translation>
    </message>
    <message>
        <source>SHA-256</source>
        <translation>SHA-256</translation>
    </message>
    <message>
        <source>Writes a credential from FILE (&quot;-&quot;: standard input) into the modem, in offline mode and back, and verifies it by SHA-256. Line ends become LF and trailing white space goes, as Nordic&apos;s tools do, unless --verbatim.</source>
        <translation>Schreibt Anmeldedaten aus DATEI („-“: Standardeingabe) ins Modem, dafür in den Offline-Modus und zurück, und prüft sie per SHA-256. Zeilenenden werden zu LF und Leerraum am Zeilenende entfällt, wie bei den Werkzeugen von Nordic, außer mit --verbatim.</translation>
    </message>
    <message>
        <source>PEM certificate or key, hex PSK, or PSK identity; - for standard input.</source>
        <translation>PEM-Zertifikat oder -Schlüssel, PSK in Hex oder PSK-Identität; - für die Standardeingabe.</translation>
    </message>
    <message>
        <source>Write the file&apos;s bytes as they are (CR LF and a final newline kept).</source>
        <translation>Die Bytes der Datei unverändert schreiben (CR LF und ein abschließender Zeilenumbruch bleiben erhalten).</translation>
    </message>
    <message>
        <source>The password of an encrypted private key, from FILE.</source>
        <translation>Das Passwort eines verschlüsselten privaten Schlüssels, aus DATEI.</translation>
    </message>
    <message>
        <source>Key password</source>
        <translation>Schlüsselpasswort</translation>
    </message>
    <message>
        <source>Wrote the %1 to security tag %2; this firmware lists no hashes, so it could not be verified.</source>
        <translation>„%1“ in Sicherheits-Tag %2 geschrieben; diese Firmware listet keine Hashes, daher war keine Prüfung möglich.</translation>
    </message>
    <message>
        <source>Wrote the %1 to security tag %2 and verified it (SHA-256 %3).</source>
        <translation>„%1“ in Sicherheits-Tag %2 geschrieben und geprüft (SHA-256 %3).</translation>
    </message>
    <message>
        <source>Deleted the %1 in security tag %2.</source>
        <translation>„%1“ in Sicherheits-Tag %2 gelöscht.</translation>
    </message>
    <message>
        <source>List stored credentials; --tag, --type, --all.</source>
        <translation>Gespeicherte Anmeldedaten auflisten; --tag, --type, --all.</translation>
    </message>
    <message>
        <source>Write a credential from a file and verify it.</source>
        <translation>Anmeldedaten aus einer Datei schreiben und prüfen.</translation>
    </message>
    <message>
        <source>Usage: onboarder-cli modem creds &lt;list|write|delete&gt; [arguments]

Credentials in the modem&apos;s security tags (AT%CMNG).

Verbs:
</source>
        <translation>Aufruf: onboarder-cli modem creds &lt;list|write|delete&gt; [Argumente]

Anmeldedaten in den Sicherheits-Tags des Modems (AT%CMNG).

Aktionen:
</translation>
    </message>
    <message>
        <source>&quot;modem creds&quot; has no verb &quot;%1&quot;.</source>
        <translation>„modem creds“ kennt keine Aktion „%1“.</translation>
    </message>
    <message>
        <source>The certificate is for &quot;%1&quot;, not for the device &quot;%2&quot;: IoT Hub takes the device ID from the certificate&apos;s common name.</source>
        <translation>Das Zertifikat gilt für „%1“, nicht für das Gerät „%2“: IoT Hub entnimmt die Geräte-ID dem allgemeinen Namen (CN) des Zertifikats.</translation>
    </message>
    <message>
        <source>not looked at</source>
        <translation>nicht geprüft</translation>
    </message>
    <message>
        <source>flashed, verified</source>
        <translation>geflasht, geprüft</translation>
    </message>
    <message>
        <source>written, not verifiable</source>
        <translation>geschrieben, nicht prüfbar</translation>
    </message>
    <message>
        <source>holds something else</source>
        <translation>enthält etwas anderes</translation>
    </message>
    <message>
        <source>empty</source>
        <translation>leer</translation>
    </message>
    <message>
        <source>unknown (the modem could not be asked)</source>
        <translation>unbekannt (das Modem konnte nicht abgefragt werden)</translation>
    </message>
    <message>
        <source>The device ID (the certificate&apos;s common name).</source>
        <translation>Die Geräte-ID (der allgemeine Name des Zertifikats, CN).</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>CONFIG_MQTT_HELPER_SEC_TAG of the firmware (the Azure sample: 10).</source>
        <translation>CONFIG_MQTT_HELPER_SEC_TAG der Firmware (im Azure-Beispiel: 10).</translation>
    </message>
    <message>
        <source>CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG (e.g. 11).</source>
        <translation>CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG (z. B. 11).</translation>
    </message>
    <message>
        <source>M</source>
        <translation>M</translation>
    </message>
    <message>
        <source>The password of an encrypted key, from FILE.</source>
        <translation>Das Passwort eines verschlüsselten Schlüssels, aus DATEI.</translation>
    </message>
    <message>
        <source>Write every credential, also those stored already.</source>
        <translation>Alle Anmeldedaten schreiben, auch bereits gespeicherte.</translation>
    </message>
    <message>
        <source>flash-azure needs --device and --tag.</source>
        <translation>flash-azure erfordert --device und --tag.</translation>
    </message>
    <message>
        <source>CONTENT</source>
        <translation>INHALT</translation>
    </message>
    <message>
        <source>ON THE MODEM</source>
        <translation>AUF DEM MODEM</translation>
    </message>
    <message>
        <source>The Azure credentials are on the modem and verified; functional mode %1 is back.</source>
        <translation>Die Azure-Anmeldedaten sind auf dem Modem und geprüft; Funktionsmodus %1 ist wiederhergestellt.</translation>
    </message>
    <message>
        <source>warning: the modem may still be in offline mode (it was in mode %1).</source>
        <translation>Warnung: Das Modem ist möglicherweise noch im Offline-Modus (es war in Modus %1).</translation>
    </message>
    <message>
        <source>Generates a private key inside the modem (AT%KEYGEN) in --tag and prints its certificate signing request (PEM), checked: it verifies with its own key and is for CN=&lt;device ID&gt;. The key never leaves the modem.</source>
        <translation>Erzeugt einen privaten Schlüssel im Modem (AT%KEYGEN) in --tag und gibt seine Zertifikatsanforderung (PEM) geprüft aus: Sie lässt sich mit ihrem eigenen Schlüssel verifizieren und gilt für CN=&lt;Geräte-ID&gt;. Der Schlüssel verlässt das Modem nie.</translation>
    </message>
    <message>
        <source>The security tag for the key.</source>
        <translation>Das Sicherheits-Tag für den Schlüssel.</translation>
    </message>
    <message>
        <source>The device ID: the request&apos;s common name.</source>
        <translation>Die Geräte-ID: der allgemeine Name (CN) der Anforderung.</translation>
    </message>
    <message>
        <source>Write the request to FILE instead of standard output.</source>
        <translation>Die Anforderung in DATEI statt auf die Standardausgabe schreiben.</translation>
    </message>
    <message>
        <source>keygen needs --tag and --device.</source>
        <translation>keygen erfordert --tag und --device.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Wrote the request for &quot;%1&quot; to %2.</source>
        <translation>Anforderung für „%1“ in %2 geschrieben.</translation>
    </message>
    <message>
        <source>An nRF91 modem on a serial port: identity and credentials (security tags).</source>
        <translation>Ein nRF91-Modem an einem seriellen Port: Identität und Anmeldedaten (Sicherheits-Tags).</translation>
    </message>
    <message>
        <source>List serial ports and nRF91 boards; --probe.</source>
        <translation>Serielle Ports und nRF91-Boards auflisten; --probe.</translation>
    </message>
    <message>
        <source>Show the modem&apos;s identity and functional mode.</source>
        <translation>Identität und Funktionsmodus des Modems zeigen.</translation>
    </message>
    <message>
        <source>Credentials in the modem: list, write, delete.</source>
        <translation>Anmeldedaten im Modem: auflisten, schreiben, löschen.</translation>
    </message>
    <message>
        <source>Flash the Azure IoT Hub credential set into a security tag.</source>
        <translation>Die Azure IoT Hub-Anmeldedaten in ein Sicherheits-Tag flashen.</translation>
    </message>
    <message>
        <source>Generate a key in the modem and print its CSR.</source>
        <translation>Einen Schlüssel im Modem erzeugen und seinen CSR ausgeben.</translation>
    </message>
    <message>
        <source>Deleting %1 needs --yes when there is no terminal to ask on.</source>
        <translation>Zum Löschen %1 ist --yes nötig, wenn kein Terminal für die Rückfrage vorhanden ist.</translation>
    </message>
    <message>
        <source>Give --replace to do that.</source>
        <translation>Geben Sie dafür --replace an.</translation>
    </message>
    <message>
        <source>Deletes a device&apos;s X.509 credential from this computer: its private key from the keychain, its certificate file and its inventory entry. The device&apos;s registration in the hub is not changed. Asks first unless --yes.</source>
        <translation>Löscht die X.509-Anmeldedaten eines Geräts von diesem Computer: den privaten Schlüssel aus dem Schlüsselbund, die Zertifikatsdatei und den Eintrag im Verzeichnis der Anmeldedaten. Die Registrierung des Geräts im Hub bleibt unverändert. Fragt vorher nach, außer mit --yes.</translation>
    </message>
    <message>
        <source>Delete the private key and certificate of &quot;%1&quot;? They cannot be recovered.</source>
        <translation>Privaten Schlüssel und Zertifikat von „%1“ löschen? Sie lassen sich nicht wiederherstellen.</translation>
    </message>
    <message>
        <source>the credential of &quot;%1&quot;</source>
        <translation>der Anmeldedaten von „%1“</translation>
    </message>
    <message>
        <source>Deleted the credential of &quot;%1&quot;.</source>
        <translation>Anmeldedaten von „%1“ gelöscht.</translation>
    </message>
    <message>
        <source>Imports a device&apos;s certificate and private key made elsewhere (PEM or DER; an encrypted key&apos;s password on standard input or --password-file). The key must belong to the certificate and the certificate must be valid now; with --modem the key must be EC P-256, as the nRF9160 needs. The key goes into the system keychain only.</source>
        <translation>Importiert Zertifikat und privaten Schlüssel eines Geräts, die anderswo erstellt wurden (PEM oder DER; das Passwort eines verschlüsselten Schlüssels über die Standardeingabe oder --password-file). Der Schlüssel muss zum Zertifikat gehören und das Zertifikat muss jetzt gültig sein; mit --modem muss der Schlüssel EC P-256 sein, wie es das nRF9160 braucht. Der Schlüssel kommt nur in den Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>The device certificate.</source>
        <translation>Das Gerätezertifikat.</translation>
    </message>
    <message>
        <source>The device&apos;s private key.</source>
        <translation>Der private Schlüssel des Geräts.</translation>
    </message>
    <message>
        <source>Read the key&apos;s password from FILE instead of standard input.</source>
        <translation>Das Passwort des Schlüssels aus DATEI statt von der Standardeingabe lesen.</translation>
    </message>
    <message>
        <source>The credential is for the nRF9160 modem: EC P-256 keys only.</source>
        <translation>Die Anmeldedaten sind für das nRF9160-Modem: nur Schlüssel vom Typ EC P-256.</translation>
    </message>
    <message>
        <source>Password of the device key</source>
        <translation>Passwort des Geräteschlüssels</translation>
    </message>
    <message>
        <source>Imported the certificate and key of &quot;%1&quot; (%2).</source>
        <translation>Zertifikat und Schlüssel von „%1“ importiert (%2).</translation>
    </message>
    <message>
        <source>Delete a device&apos;s credential from this computer.</source>
        <translation>Die Anmeldedaten eines Geräts von diesem Computer löschen.</translation>
    </message>
    <message>
        <source>Import a device&apos;s certificate and key made elsewhere.</source>
        <translation>Zertifikat und Schlüssel eines Geräts importieren, die anderswo erstellt wurden.</translation>
    </message>
    <message>
        <source>The certificate&apos;s SHA-1 or SHA-256 thumbprint, for x509-self-signed. Without --cert and --thumbprint, the certificate made with cred generate is used.</source>
        <translation>Der SHA-1- oder SHA-256-Fingerabdruck des Zertifikats, für x509-self-signed. Ohne --cert und --thumbprint wird das mit cred generate erstellte Zertifikat verwendet.</translation>
    </message>
    <message>
        <source>A self-signed device needs --cert FILE, --thumbprint with 40 (SHA-1) or 64 (SHA-256) hex digits, or a certificate made first with: cred generate %1</source>
        <translation>Ein selbstsigniertes Gerät braucht --cert DATEI, --thumbprint mit 40 (SHA-1) oder 64 (SHA-256) Hexadezimalziffern oder ein zuvor erstelltes Zertifikat mit: cred generate %1</translation>
    </message>
    <message>
        <source>Delete device &quot;%1&quot; from hub &quot;%2&quot;?</source>
        <translation>Gerät „%1“ aus Hub „%2“ löschen?</translation>
    </message>
    <message>
        <source>device &quot;%1&quot;</source>
        <translation>des Geräts „%1“</translation>
    </message>
    <message>
        <source>in %1/s  out %2/s  latency p50 %3 ms p99 %4 ms  outbox %5%6  sessions %7  local broker %8</source>
        <translation>ein %1/s  aus %2/s  Latenz p50 %3 ms p99 %4 ms  Postausgang %5%6  Sitzungen %7  lokaler Broker %8</translation>
    </message>
    <message>
        <source> (full: %1 held at the local broker)</source>
        <translation> (voll: %1 beim lokalen Broker zurückgehalten)</translation>
    </message>
    <message>
        <source>The relay configuration (JSON).</source>
        <translation>Die Relay-Konfiguration (JSON).</translation>
    </message>
    <message>
        <source>--config FILE is required.</source>
        <translation>--config DATEI ist erforderlich.</translation>
    </message>
    <message>
        <source>The relay configuration names the hub &quot;%1&quot;, which was not added (onboarder-cli hub add).</source>
        <translation>Die Relay-Konfiguration nennt den Hub „%1“, der nicht hinzugefügt wurde (onboarder-cli hub add).</translation>
    </message>
    <message>
        <source>Checks a relay configuration without starting the relay.</source>
        <translation>Prüft eine Relay-Konfiguration, ohne das Relay zu starten.</translation>
    </message>
    <message>
        <source>The relay configuration is valid: %1 → hub %2, outbox %3.</source>
        <translation>Die Relay-Konfiguration ist gültig: %1 → Hub %2, Postausgang %3.</translation>
    </message>
    <message>
        <source>Runs the relay: the local broker&apos;s messages go to the hub as their devices&apos; messages, through a durable outbox. Metrics every interval on standard output (JSON Lines with --json). SIGTERM or SIGINT stop it cleanly.</source>
        <translation>Startet das Relay: Die Nachrichten des lokalen Brokers gehen als Nachrichten ihrer Geräte an den Hub, über einen dauerhaften Postausgang. Metriken in jedem Intervall auf der Standardausgabe (JSON Lines mit --json). SIGTERM oder SIGINT beenden es sauber.</translation>
    </message>
    <message>
        <source>The relay: a local MQTT broker&apos;s messages to the hub, one session per device.</source>
        <translation>Das Relay: Nachrichten eines lokalen MQTT-Brokers an den Hub, eine Sitzung pro Gerät.</translation>
    </message>
    <message>
        <source>Run the relay (headless gateway); --config FILE.</source>
        <translation>Das Relay starten (Gateway ohne Oberfläche); --config DATEI.</translation>
    </message>
    <message>
        <source>Check a relay configuration; --config FILE.</source>
        <translation>Eine Relay-Konfiguration prüfen; --config DATEI.</translation>
    </message>
    <message>
        <source>Stores the local broker&apos;s password (read from standard input or --secret-file) in the keychain, for a relay configuration&apos;s &quot;source&quot;: {&quot;passwordKeychain&quot;: &quot;NAME&quot;}.</source>
        <translation>Speichert das Passwort des lokalen Brokers (von der Standardeingabe oder aus --secret-file gelesen) im Schlüsselbund, für &quot;source&quot;: {&quot;passwordKeychain&quot;: &quot;NAME&quot;} einer Relay-Konfiguration.</translation>
    </message>
    <message>
        <source>The name the configuration gives.</source>
        <translation>Der Name, den die Konfiguration angibt.</translation>
    </message>
    <message>
        <source>Read the password from FILE.</source>
        <translation>Das Passwort aus DATEI lesen.</translation>
    </message>
    <message>
        <source>NAME must not be empty nor hold &apos;/&apos;.</source>
        <translation>NAME darf weder leer sein noch &apos;/&apos; enthalten.</translation>
    </message>
    <message>
        <source>Local broker password</source>
        <translation>Passwort des lokalen Brokers</translation>
    </message>
    <message>
        <source>The local broker&apos;s password &quot;%1&quot; is in the system keychain.</source>
        <translation>Das Passwort „%1“ des lokalen Brokers liegt im Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>Keep the local broker&apos;s password in the keychain.</source>
        <translation>Das Passwort des lokalen Brokers im Schlüsselbund ablegen.</translation>
    </message>
    <message>
        <source>Give both --cert FILE and --key FILE, or neither to use the credential kept for the device (cred generate or cred import).</source>
        <translation>Geben Sie sowohl --cert DATEI als auch --key DATEI an oder keines von beiden, um die für das Gerät hinterlegten Anmeldedaten zu verwenden (cred generate oder cred import).</translation>
    </message>
    <message>
        <source>The device certificate (PEM); default: the one kept for the device.</source>
        <translation>Das Gerätezertifikat (PEM); Standard: das für das Gerät hinterlegte.</translation>
    </message>
    <message>
        <source>The device&apos;s private key (PEM); - for standard input; default: the one in the keychain.</source>
        <translation>Der private Schlüssel des Geräts (PEM); - für die Standardeingabe; Standard: der im Schlüsselbund.</translation>
    </message>
    <message>
        <source>No hub chosen to find the device&apos;s credential in: give --hub NAME, or --cert FILE --key FILE.</source>
        <translation>Kein Hub gewählt, in dem die Anmeldedaten des Geräts gesucht werden können: Geben Sie --hub NAME an oder --cert DATEI --key DATEI.</translation>
    </message>
    <message>
        <source>passed</source>
        <translation>bestanden</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>abgebrochen</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
    <message>
        <source>RESULT</source>
        <translation>ERGEBNIS</translation>
    </message>
    <message>
        <source>Stopping: each job ends after its current step and reports what it left.</source>
        <translation>Wird angehalten: Jeder Auftrag endet nach seinem aktuellen Schritt und meldet, in welchem Zustand er alles hinterlässt.</translation>
    </message>
    <message>
        <source>Provisions nRF91 modems as the profile says: reads each modem&apos;s IMEI, registers the device in the hub, makes or reuses its key and certificate (on this computer, or in the modem with %KEYGEN and signed by the profile&apos;s CA), flashes root CAs, certificate and key, verifies every hash on the modem and the thumbprint in the hub, and appends one line per modem to the audit log. Modems run in parallel. Running again after a failure finishes what is missing; an existing device with other credentials stops the job unless --replace.</source>
        <translation>Provisioniert nRF91-Modems gemäß dem Profil: liest die IMEI jedes Modems, registriert das Gerät im Hub, erzeugt dessen Schlüssel und Zertifikat oder verwendet sie wieder (auf diesem Computer oder im Modem mit %KEYGEN und signiert von der CA des Profils), flasht Stamm-CAs, Zertifikat und Schlüssel, verifiziert jeden Hash auf dem Modem und den Fingerabdruck im Hub und hängt pro Modem eine Zeile an das Prüfprotokoll an. Die Modems werden parallel bearbeitet. Ein erneuter Lauf nach einem Fehler erledigt, was noch fehlt; ein vorhandenes Gerät mit anderen Anmeldedaten hält den Auftrag an, sofern nicht --replace angegeben ist.</translation>
    </message>
    <message>
        <source>The provisioning profile (JSON).</source>
        <translation>Das Provisionierungsprofil (JSON).</translation>
    </message>
    <message>
        <source>A modem&apos;s serial port; repeat for several.</source>
        <translation>Serieller Port eines Modems; für mehrere wiederholen.</translation>
    </message>
    <message>
        <source>Every modem found: the AT port of each nRF91 board and each extra port.</source>
        <translation>Jedes gefundene Modem: der AT-Port jeder nRF91-Platine und jeder zusätzliche Port.</translation>
    </message>
    <message>
        <source>A hub device of the same id with other credentials gets the new ones (default: stop).</source>
        <translation>Ein Hub-Gerät mit derselben ID und anderen Anmeldedaten erhält die neuen (Standard: anhalten).</translation>
    </message>
    <message>
        <source>Who provisions, for the audit log (default: the login name).</source>
        <translation>Wer provisioniert, für das Prüfprotokoll (Standard: der Anmeldename).</translation>
    </message>
    <message>
        <source>Which station, for the audit log (default: the host name).</source>
        <translation>Welche Station, für das Prüfprotokoll (Standard: der Hostname).</translation>
    </message>
    <message>
        <source>Open the ports without RTS/CTS flow control.</source>
        <translation>Die Ports ohne RTS/CTS-Flusssteuerung öffnen.</translation>
    </message>
    <message>
        <source>provision needs --profile FILE.</source>
        <translation>provision benötigt --profile DATEI.</translation>
    </message>
    <message>
        <source>Give --port PATH (one or more) or --all.</source>
        <translation>Geben Sie --port PFAD (einmal oder mehrmals) oder --all an.</translation>
    </message>
    <message>
        <source>The profile names the hub &quot;%1&quot;, which was not added (onboarder-cli hub add).</source>
        <translation>Das Profil nennt den Hub „%1“, der nicht hinzugefügt wurde (onboarder-cli hub add).</translation>
    </message>
    <message>
        <source>No nRF91 modem was found. Plug one in, or give --port PATH.</source>
        <translation>Es wurde kein nRF91-Modem gefunden. Schließen Sie eines an oder geben Sie --port PFAD an.</translation>
    </message>
    <message>
        <source>Checks a provisioning profile and prints it with its defaults filled in.</source>
        <translation>Prüft ein Provisionierungsprofil und gibt es mit ergänzten Standardwerten aus.</translation>
    </message>
    <message>
        <source>check needs --profile FILE.</source>
        <translation>check benötigt --profile DATEI.</translation>
    </message>
    <message>
        <source>Prints the provisioning audit log: JSON Lines with --json, CSV with --csv, else a table.</source>
        <translation>Gibt das Prüfprotokoll der Provisionierung aus: JSON Lines mit --json, CSV mit --csv, sonst als Tabelle.</translation>
    </message>
    <message>
        <source>As CSV (one row per job).</source>
        <translation>Als CSV (eine Zeile pro Auftrag).</translation>
    </message>
    <message>
        <source>Write to FILE instead of standard output.</source>
        <translation>In DATEI statt in die Standardausgabe schreiben.</translation>
    </message>
    <message>
        <source>TIME</source>
        <translation>ZEIT</translation>
    </message>
    <message>
        <source>ERROR</source>
        <translation>FEHLER</translation>
    </message>
    <message>
        <source>Provision modems: hub device, credentials, flash, verify, audit.</source>
        <translation>Modems provisionieren: Hub-Gerät, Anmeldedaten, Flashen, Verifizieren, Protokollieren.</translation>
    </message>
    <message>
        <source>--profile FILE --port PATH | --all: provision modems.</source>
        <translation>--profile DATEI --port PFAD | --all: Modems provisionieren.</translation>
    </message>
    <message>
        <source>Check a provisioning profile.</source>
        <translation>Ein Provisionierungsprofil prüfen.</translation>
    </message>
    <message>
        <source>Print or export the provisioning audit log.</source>
        <translation>Das Prüfprotokoll der Provisionierung ausgeben oder exportieren.</translation>
    </message>
    <message>
        <source>End after N messages (default 0: no limit).</source>
        <translation>Nach N Nachrichten enden (Standard 0: keine Grenze).</translation>
    </message>
    <message>
        <source>End after S seconds (default 0: no limit).</source>
        <translation>Nach S Sekunden enden (Standard 0: keine Grenze).</translation>
    </message>
    <message>
        <source>Print what the hub receives from a device, as it arrives.</source>
        <translation>Ausgeben, was der Hub von einem Gerät empfängt, sobald es eintrifft.</translation>
    </message>
    <message>
        <source>Cannot read the payload from standard input.</source>
        <translation>Die Nutzdaten können nicht von der Standardeingabe gelesen werden.</translation>
    </message>
    <message>
        <source>The payload is more than %1 bytes (64 KB), the most IoT Hub takes for a cloud-to-device message; nothing was sent.</source>
        <translation>Die Nutzdaten sind größer als %1 Byte (64 KB), das Maximum, das IoT Hub für eine Cloud-zu-Gerät-Nachricht annimmt; es wurde nichts gesendet.</translation>
    </message>
    <message>
        <source>Sends a cloud-to-device message to a device; the payload is read from standard input. Prints its message id. The device gets it at once if connected, else when it connects (IoT Hub keeps up to 50 per device).</source>
        <translation>Sendet eine Cloud-zu-Gerät-Nachricht an ein Gerät; die Nutzdaten werden von der Standardeingabe gelesen. Gibt ihre Nachrichten-ID aus. Das Gerät erhält sie sofort, wenn es verbunden ist, sonst sobald es sich verbindet (IoT Hub hält bis zu 50 pro Gerät vor).</translation>
    </message>
    <message>
        <source>An application property; repeatable.</source>
        <translation>Eine Anwendungseigenschaft; für mehrere wiederholen.</translation>
    </message>
    <message>
        <source>K=V</source>
        <translation>NAME=WERT</translation>
    </message>
    <message>
        <source>Feedback wanted: none (default), positive, negative or full.</source>
        <translation>Gewünschtes Feedback: none (Standard), positive, negative oder full.</translation>
    </message>
    <message>
        <source>MODE</source>
        <translation>MODUS</translation>
    </message>
    <message>
        <source>Seconds the hub keeps the message for an offline device (default: the hub&apos;s, 1 hour).</source>
        <translation>Sekunden, die der Hub die Nachricht für ein Gerät ohne Verbindung aufbewahrt (Standard: der Wert des Hubs, 1 Stunde).</translation>
    </message>
    <message>
        <source>The message id (default: a new UUID).</source>
        <translation>Die Nachrichten-ID (Standard: eine neue UUID).</translation>
    </message>
    <message>
        <source>The correlation id.</source>
        <translation>Die Korrelations-ID.</translation>
    </message>
    <message>
        <source>The payload&apos;s content type, e.g. application/json.</source>
        <translation>Der Inhaltstyp der Nutzdaten, z. B. application/json.</translation>
    </message>
    <message>
        <source>The payload&apos;s content encoding, e.g. utf-8.</source>
        <translation>Die Inhaltskodierung der Nutzdaten, z. B. utf-8.</translation>
    </message>
    <message>
        <source>ENCODING</source>
        <translation>KODIERUNG</translation>
    </message>
    <message>
        <source>--property takes NAME=VALUE, not &quot;%1&quot;.</source>
        <translation>--property erwartet NAME=WERT, nicht „%1“.</translation>
    </message>
    <message>
        <source>Prints the feedback records of cloud-to-device messages sent with --ack, as the hub hands them out (each record once, to whoever reads it).</source>
        <translation>Gibt die Feedback-Einträge von Cloud-zu-Gerät-Nachrichten aus, die mit --ack gesendet wurden, so wie der Hub sie herausgibt (jeden Eintrag nur einmal, an den, der ihn zuerst liest).</translation>
    </message>
    <message>
        <source>Seconds to wait for records (default 10; 0: until interrupted).</source>
        <translation>Sekunden, die auf Einträge gewartet wird (Standard 10; 0: bis zur Unterbrechung).</translation>
    </message>
    <message>
        <source>End after N records (default 0: no limit).</source>
        <translation>Nach N Einträgen enden (Standard 0: keine Grenze).</translation>
    </message>
    <message>
        <source>End once the record of this message arrived.</source>
        <translation>Enden, sobald der Eintrag zu dieser Nachricht eingetroffen ist.</translation>
    </message>
    <message>
        <source>No feedback for message %1 arrived in time.</source>
        <translation>Für die Nachricht %1 ist nicht rechtzeitig Feedback eingetroffen.</translation>
    </message>
    <message>
        <source>Drops every cloud-to-device message still waiting for a device.</source>
        <translation>Verwirft alle Cloud-zu-Gerät-Nachrichten, die noch auf ein Gerät warten.</translation>
    </message>
    <message>
        <source>Confirm: the messages are gone for good.</source>
        <translation>Bestätigen: Die Nachrichten sind danach endgültig weg.</translation>
    </message>
    <message>
        <source>Purging drops the messages waiting for %1 for good: add --yes to confirm.</source>
        <translation>Das Leeren verwirft die Nachrichten, die auf %1 warten, endgültig: Zum Bestätigen --yes angeben.</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s) for %1 purged.</source>
        <translation>
            <numerusform>%n Nachricht für %1 verworfen.</numerusform>
            <numerusform>%n Nachrichten für %1 verworfen.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cloud-to-device messages of the hub (--hub NAME, or the current hub), over AMQP.</source>
        <translation>Cloud-zu-Gerät-Nachrichten des Hubs (--hub NAME oder der aktuelle Hub), über AMQP.</translation>
    </message>
    <message>
        <source>Send a message to a device (payload on stdin).</source>
        <translation>Eine Nachricht an ein Gerät senden (Nutzdaten über stdin).</translation>
    </message>
    <message>
        <source>Print feedback records (delivered, expired, rejected).</source>
        <translation>Feedback-Einträge ausgeben (zugestellt, abgelaufen, abgelehnt).</translation>
    </message>
    <message>
        <source>Drop the messages waiting for a device (--yes).</source>
        <translation>Die Nachrichten verwerfen, die auf ein Gerät warten (--yes).</translation>
    </message>
    <message>
        <source>Consumer group of the Event Hub-compatible endpoint (default $Default).</source>
        <translation>Consumergruppe des Event-Hub-kompatiblen Endpunkts (Standard $Default).</translation>
    </message>
    <message>
        <source>G</source>
        <translation>G</translation>
    </message>
    <message>
        <source>Where to start: now (default), oldest (all that the hub keeps), or an ISO 8601 time.</source>
        <translation>Wo begonnen wird: now (Standard), oldest (alles, was der Hub aufbewahrt) oder eine Zeit nach ISO 8601.</translation>
    </message>
    <message>
        <source>WHEN</source>
        <translation>WANN</translation>
    </message>
    <message>
        <source>--from takes now, oldest or an ISO 8601 time such as 2026-12-06T10:00:00Z, not &quot;%1&quot;.</source>
        <translation>--from erwartet now, oldest oder eine Zeit nach ISO 8601 wie 2026-12-06T10:00:00Z, nicht „%1“.</translation>
    </message>
    <message>
        <source>AMQPS port of the service endpoint: cloud-to-device messages and telemetry (default 5671).</source>
        <translation>AMQPS-Port des Dienstendpunkts: Cloud-zu-Gerät-Nachrichten und Telemetrie (Standard 5671).</translation>
    </message>
    <message>
        <source>REST %1, MQTT %2, AMQP %3</source>
        <translation>REST %1, MQTT %2, AMQP %3</translation>
    </message>
    <message>
        <source>, WebSockets</source>
        <translation>, WebSockets</translation>
    </message>
    <message>
        <source>, proxy %1:%2</source>
        <translation>, Proxy %1:%2</translation>
    </message>
    <message>
        <source>MQTT and AMQP over WebSockets on the HTTPS port (443), for networks that let only HTTPS out.</source>
        <translation>MQTT und AMQP über WebSockets auf dem HTTPS-Port (443), für Netze, die nur HTTPS hinauslassen.</translation>
    </message>
    <message>
        <source>Reach the hub through this HTTP proxy (CONNECT): REST, MQTT and AMQP.</source>
        <translation>Den Hub über diesen HTTP-Proxy (CONNECT) erreichen: REST, MQTT und AMQP.</translation>
    </message>
    <message>
        <source>http://HOST:PORT</source>
        <translation>http://HOST:PORT</translation>
    </message>
    <message>
        <source>, own Event Hub</source>
        <translation>, eigener Event Hub</translation>
    </message>
    <message>
        <source>Keep a hub&apos;s Event Hub-compatible connection string; on standard input.</source>
        <translation>Die Event-Hub-kompatible Verbindungszeichenfolge eines Hubs aufbewahren; von der Standardeingabe.</translation>
    </message>
    <message>
        <source>Print what the hub receives from its devices, as it arrives.</source>
        <translation>Ausgeben, was der Hub von seinen Geräten empfängt, sobald es ankommt.</translation>
    </message>
    <message>
        <source>Prints what the hub receives from a device, message by message as it arrives: time, properties and payload (JSON Lines with --json). It is read over AMQP from the hub&apos;s Event Hub-compatible endpoint: the one kept with hub event-hub, else the one the hub redirects to. Ends after --count messages, after --seconds, or on SIGINT or SIGTERM.</source>
        <translation>Gibt aus, was der Hub von einem Gerät empfängt, Nachricht für Nachricht, sobald sie ankommt: Zeit, Eigenschaften und Nutzdaten (JSON Lines mit --json). Gelesen wird über AMQP am Event-Hub-kompatiblen Endpunkt des Hubs: dem mit hub event-hub aufbewahrten, sonst dem, auf den der Hub umleitet. Endet nach --count Nachrichten, nach --seconds oder bei SIGINT oder SIGTERM.</translation>
    </message>
    <message>
        <source>Prints what the hub receives from all its devices (or one, with --device), message by message as it arrives: time, device, properties and payload (JSON Lines with --json). It is read over AMQP from the hub&apos;s Event Hub-compatible endpoint: the one kept with hub event-hub, else the one the hub redirects to. Ends after --count messages, after --seconds, or on SIGINT or SIGTERM.</source>
        <translation>Gibt aus, was der Hub von allen seinen Geräten (oder mit --device von einem) empfängt, Nachricht für Nachricht, sobald sie ankommt: Zeit, Gerät, Eigenschaften und Nutzdaten (JSON Lines mit --json). Gelesen wird über AMQP am Event-Hub-kompatiblen Endpunkt des Hubs: dem mit hub event-hub aufbewahrten, sonst dem, auf den der Hub umleitet. Endet nach --count Nachrichten, nach --seconds oder bei SIGINT oder SIGTERM.</translation>
    </message>
    <message>
        <source>Only this device&apos;s messages.</source>
        <translation>Nur die Nachrichten dieses Geräts.</translation>
    </message>
    <message>
        <source>Keeps a hub&apos;s Event Hub-compatible connection string (Azure portal: the hub&apos;s Built-in endpoints) in the system keychain, beside the hub&apos;s own; telemetry is then read there instead of through the hub&apos;s redirect. The string is read from standard input or --secret-file; --clear forgets it.</source>
        <translation>Bewahrt die Event-Hub-kompatible Verbindungszeichenfolge eines Hubs (Azure-Portal: die integrierten Endpunkte des Hubs) im Schlüsselbund des Systems auf, neben der des Hubs; Telemetrie wird dann dort gelesen statt über die Umleitung des Hubs. Die Zeichenfolge wird von der Standardeingabe oder aus --secret-file gelesen; --clear vergisst sie.</translation>
    </message>
    <message>
        <source>Forget the Event Hub-compatible connection string kept for the hub.</source>
        <translation>Die für den Hub aufbewahrte Event-Hub-kompatible Verbindungszeichenfolge vergessen.</translation>
    </message>
    <message>
        <source>--clear takes no connection string.</source>
        <translation>--clear nimmt keine Verbindungszeichenfolge.</translation>
    </message>
    <message>
        <source>Event Hub-compatible connection string</source>
        <translation>Event-Hub-kompatible Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>No connection string was given. To forget the one kept, use --clear.</source>
        <translation>Es wurde keine Verbindungszeichenfolge angegeben. Um die aufbewahrte zu vergessen, --clear verwenden.</translation>
    </message>
    <message>
        <source>Hub &quot;%1&quot;: telemetry is read through the hub&apos;s redirect again.</source>
        <translation>Hub „%1“: Telemetrie wird wieder über die Umleitung des Hubs gelesen.</translation>
    </message>
    <message>
        <source>Hub &quot;%1&quot;: telemetry is read with the Event Hub-compatible connection string, which is in the system keychain.</source>
        <translation>Hub „%1“: Telemetrie wird mit der Event-Hub-kompatiblen Verbindungszeichenfolge gelesen, die im Schlüsselbund des Systems liegt.</translation>
    </message>
    <message>
        <source>No DPS chosen: give --dps NAME, or make one current with onboarder-cli dps use NAME.</source>
        <translation>Kein DPS gewählt: --dps NAME angeben oder mit onboarder-cli dps use NAME einen DPS zum aktuellen machen.</translation>
    </message>
    <message>
        <source>There is no DPS named &quot;%1&quot;.</source>
        <translation>Es gibt keinen DPS namens „%1“.</translation>
    </message>
    <message>
        <source>X.509 %1</source>
        <translation>X.509 %1</translation>
    </message>
    <message>
        <source>symmetric key</source>
        <translation>symmetrischer Schlüssel</translation>
    </message>
    <message>
        <source>The initial twin in %1 is not a JSON object: %2</source>
        <translation>Der anfängliche Zwilling in %1 ist kein JSON-Objekt: %2</translation>
    </message>
    <message>
        <source>No certificate is kept here for %1. Make one with onboarder-cli cred generate %1, or give --cert FILE.</source>
        <translation>Für %1 wird hier kein Zertifikat aufbewahrt. Mit onboarder-cli cred generate %1 eines erstellen oder --cert DATEI angeben.</translation>
    </message>
    <message>
        <source>Adds a Device Provisioning Service. Its connection string (a shared access policy&apos;s, e.g. provisioningserviceowner) is read from standard input or --secret-file and stored in the system keychain only.</source>
        <translation>Fügt einen Device Provisioning Service hinzu. Seine Verbindungszeichenfolge (die einer freigegebenen Zugriffsrichtlinie, z. B. provisioningserviceowner) wird von der Standardeingabe oder aus --secret-file gelesen und nur im Schlüsselbund des Systems gespeichert.</translation>
    </message>
    <message>
        <source>A local name for the DPS.</source>
        <translation>Ein lokaler Name für den DPS.</translation>
    </message>
    <message>
        <source>The DPS&apos;s ID scope, which devices register with (its Overview page).</source>
        <translation>Der ID scope des DPS, mit dem sich Geräte registrieren (auf seiner Seite „Übersicht“).</translation>
    </message>
    <message>
        <source>SCOPE</source>
        <translation>SCOPE</translation>
    </message>
    <message>
        <source>Trust this CA certificate (PEM) for this DPS only.</source>
        <translation>Diesem CA-Zertifikat (PEM) nur für diesen DPS vertrauen.</translation>
    </message>
    <message>
        <source>HTTPS port (default 443).</source>
        <translation>HTTPS-Port (Standard 443).</translation>
    </message>
    <message>
        <source>MQTT port of device registration (default 8883).</source>
        <translation>MQTT-Port der Geräteregistrierung (Standard 8883).</translation>
    </message>
    <message>
        <source>Reach the service and device registration at this address (a sandbox) instead of Azure&apos;s hosts.</source>
        <translation>Dienst und Geräteregistrierung unter dieser Adresse (einer Sandbox) statt über die Hosts von Azure erreichen.</translation>
    </message>
    <message>
        <source>ADDR</source>
        <translation>ADRESSE</translation>
    </message>
    <message>
        <source>DPS connection string</source>
        <translation>Verbindungszeichenfolge des DPS</translation>
    </message>
    <message>
        <source>Added DPS &quot;%1&quot; (%2, policy %3, ID scope %4). Its key is in the system keychain.</source>
        <translation>DPS „%1“ hinzugefügt (%2, Richtlinie %3, ID scope %4). Sein Schlüssel liegt im Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>Lists the Device Provisioning Services that were added.</source>
        <translation>Listet die hinzugefügten Device Provisioning Services auf.</translation>
    </message>
    <message>
        <source>No DPS yet. Add one with: onboarder-cli dps add NAME --id-scope SCOPE &lt; connection-string-file</source>
        <translation>Noch kein DPS. Einen hinzufügen mit: onboarder-cli dps add NAME --id-scope SCOPE &lt; datei-mit-verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>ID SCOPE</source>
        <translation>ID SCOPE</translation>
    </message>
    <message>
        <source>DEVICES REGISTER AT</source>
        <translation>GERÄTE REGISTRIEREN SICH BEI</translation>
    </message>
    <message>
        <source>Removes a DPS from this computer: its profile and its key in the keychain. Nothing changes in the DPS.</source>
        <translation>Entfernt einen DPS von diesem Computer: sein Profil und seinen Schlüssel im Schlüsselbund. Am DPS selbst ändert sich nichts.</translation>
    </message>
    <message>
        <source>The DPS&apos;s local name.</source>
        <translation>Der lokale Name des DPS.</translation>
    </message>
    <message>
        <source>Removed DPS &quot;%1&quot;.</source>
        <translation>DPS „%1“ entfernt.</translation>
    </message>
    <message>
        <source>Makes a DPS the current one: dps commands without --dps work on it.</source>
        <translation>Macht einen DPS zum aktuellen: dps-Befehle ohne --dps arbeiten mit ihm.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is now the current DPS.</source>
        <translation>„%1“ ist jetzt der aktuelle DPS.</translation>
    </message>
    <message>
        <source>None.</source>
        <translation>Keine.</translation>
    </message>
    <message>
        <source>ATTESTATION</source>
        <translation>NACHWEIS</translation>
    </message>
    <message>
        <source>ASSIGNED HUB</source>
        <translation>ZUGEWIESENER HUB</translation>
    </message>
    <message>
        <source>Deleted %1 &quot;%2&quot; from DPS %3.</source>
        <translation>%1 „%2“ aus DPS %3 gelöscht.</translation>
    </message>
    <message>
        <source>DPS %1 has a %2 &quot;%3&quot; already; nothing was changed. Delete it first to make it anew.</source>
        <translation>%2 „%3“ existiert in DPS %1 bereits; es wurde nichts geändert. Zum Neuanlegen zuerst löschen.</translation>
    </message>
    <message>
        <source>Created %1 &quot;%2&quot; in DPS %3 (%4).</source>
        <translation>%1 „%2“ in DPS %3 erstellt (%4).</translation>
    </message>
    <message>
        <source>Individual enrollments of the DPS: list, show ID, create ID, delete ID. create takes --auth x509 (the certificate kept here for that id, or --cert FILE) or --auth symmetric-key (DPS makes the keys), --initial-twin FILE and --disabled.</source>
        <translation>Einzelne Registrierungseinträge des DPS: list, show ID, create ID, delete ID. create nimmt --auth x509 (das hier für diese ID aufbewahrte Zertifikat oder --cert DATEI) oder --auth symmetric-key (der DPS erzeugt die Schlüssel), --initial-twin DATEI und --disabled.</translation>
    </message>
    <message>
        <source>list|show|create|delete [ID]</source>
        <translation>list|show|create|delete [ID]</translation>
    </message>
    <message>
        <source>list, show, create or delete.</source>
        <translation>list, show, create oder delete.</translation>
    </message>
    <message>
        <source>The registration id (for X.509: the certificate&apos;s common name).</source>
        <translation>Die Registrierungs-ID (bei X.509: der allgemeine Name (CN) des Zertifikats).</translation>
    </message>
    <message>
        <source>create: x509 or symmetric-key.</source>
        <translation>create: x509 oder symmetric-key.</translation>
    </message>
    <message>
        <source>create: the device&apos;s certificate (PEM) instead of the one kept here.</source>
        <translation>create: das Zertifikat des Geräts (PEM) statt des hier aufbewahrten.</translation>
    </message>
    <message>
        <source>create: the device id in the hub (default: the registration id).</source>
        <translation>create: die Geräte-ID im Hub (Standard: die Registrierungs-ID).</translation>
    </message>
    <message>
        <source>create: the device&apos;s initial twin (JSON: tags and desired properties).</source>
        <translation>create: der anfängliche Zwilling des Geräts (JSON: Tags und gewünschte Eigenschaften).</translation>
    </message>
    <message>
        <source>create: enrolled but not allowed to register yet.</source>
        <translation>create: eingetragen, aber noch nicht zur Registrierung zugelassen.</translation>
    </message>
    <message>
        <source>list, show: print symmetric keys instead of masking them.</source>
        <translation>list, show: symmetrische Schlüssel ausgeben statt sie zu maskieren.</translation>
    </message>
    <message>
        <source>dps enrollment %1 needs the registration id.</source>
        <translation>dps enrollment %1 benötigt die Registrierungs-ID.</translation>
    </message>
    <message>
        <source>dps enrollment takes list, show, create or delete, not &quot;%1&quot;.</source>
        <translation>dps enrollment kennt list, show, create oder delete, nicht „%1“.</translation>
    </message>
    <message>
        <source>%1 cannot be read: %2</source>
        <translation>%1 ist nicht lesbar: %2</translation>
    </message>
    <message>
        <source>The certificate&apos;s common name is &quot;%1&quot;, but DPS takes an X.509 device&apos;s registration id from it: enroll it as &quot;%1&quot;, or use a certificate made for &quot;%2&quot;.</source>
        <translation>Der allgemeine Name (CN) des Zertifikats ist „%1“, aber der DPS entnimmt ihm die Registrierungs-ID eines X.509-Geräts: Legen Sie den Registrierungseintrag als „%1“ an oder verwenden Sie ein für „%2“ erstelltes Zertifikat.</translation>
    </message>
    <message>
        <source>--auth takes x509 or symmetric-key, not &quot;%1&quot; (TPM is not supported).</source>
        <translation>--auth ist x509 oder symmetric-key, nicht „%1“ (TPM wird nicht unterstützt).</translation>
    </message>
    <message>
        <source>Enrollment groups of the DPS: list, show NAME, create NAME, delete NAME, device-key NAME REGISTRATION_ID. create takes --ca CA (a CA imported with cred import-ca: devices whose certificates it signs may register) or --auth symmetric-key (devices register with keys derived from the group&apos;s).</source>
        <translation>Registrierungsgruppen des DPS: list, show NAME, create NAME, delete NAME, device-key NAME REGISTRIERUNGS_ID. create nimmt --ca CA (eine mit cred import-ca importierte CA: Geräte, deren Zertifikate sie signiert, dürfen sich registrieren) oder --auth symmetric-key (Geräte registrieren sich mit Schlüsseln, die aus dem Schlüssel der Gruppe abgeleitet sind).</translation>
    </message>
    <message>
        <source>list|show|create|delete|device-key [NAME] [REGISTRATION_ID]</source>
        <translation>list|show|create|delete|device-key [NAME] [REGISTRIERUNGS_ID]</translation>
    </message>
    <message>
        <source>list, show, create, delete or device-key.</source>
        <translation>list, show, create, delete oder device-key.</translation>
    </message>
    <message>
        <source>The enrollment group&apos;s id.</source>
        <translation>Die ID der Registrierungsgruppe.</translation>
    </message>
    <message>
        <source>device-key: the device&apos;s registration id.</source>
        <translation>device-key: die Registrierungs-ID des Geräts.</translation>
    </message>
    <message>
        <source>create: the imported CA whose certificates the group admits.</source>
        <translation>create: die importierte CA, deren Zertifikate die Gruppe zulässt.</translation>
    </message>
    <message>
        <source>CA</source>
        <translation>CA</translation>
    </message>
    <message>
        <source>create: x509 (with --ca) or symmetric-key.</source>
        <translation>create: x509 (mit --ca) oder symmetric-key.</translation>
    </message>
    <message>
        <source>create: the devices&apos; initial twin (JSON).</source>
        <translation>create: der anfängliche Zwilling der Geräte (JSON).</translation>
    </message>
    <message>
        <source>create: no device of the group may register yet.</source>
        <translation>create: noch darf sich kein Gerät der Gruppe registrieren.</translation>
    </message>
    <message>
        <source>Print keys instead of masking them.</source>
        <translation>Schlüssel ausgeben statt sie zu maskieren.</translation>
    </message>
    <message>
        <source>dps group %1 needs the group&apos;s name.</source>
        <translation>dps group %1 benötigt den Namen der Gruppe.</translation>
    </message>
    <message>
        <source>dps group device-key needs the group&apos;s name and the device&apos;s registration id.</source>
        <translation>dps group device-key benötigt den Namen der Gruppe und die Registrierungs-ID des Geräts.</translation>
    </message>
    <message>
        <source>The enrollment group &quot;%1&quot; is not a symmetric-key group: its devices have no derived key.</source>
        <translation>Die Registrierungsgruppe „%1“ ist keine Gruppe mit symmetrischem Schlüssel: Ihre Geräte haben keinen abgeleiteten Schlüssel.</translation>
    </message>
    <message>
        <source>%1 (masked; --reveal prints it)</source>
        <translation>%1 (maskiert; --reveal gibt ihn aus)</translation>
    </message>
    <message>
        <source>dps group takes list, show, create, delete or device-key, not &quot;%1&quot;.</source>
        <translation>dps group kennt list, show, create, delete oder device-key, nicht „%1“.</translation>
    </message>
    <message>
        <source>dps group create needs --ca CA (an imported CA) or --auth symmetric-key.</source>
        <translation>dps group create benötigt --ca CA (eine importierte CA) oder --auth symmetric-key.</translation>
    </message>
    <message>
        <source>A device&apos;s registration state in the DPS: show ID (the hub it was assigned to), delete ID (so that it is assigned anew on its next registration).</source>
        <translation>Der Registrierungsstatus eines Geräts im DPS: show ID (der Hub, dem es zugewiesen wurde), delete ID (damit es bei seiner nächsten Registrierung neu zugewiesen wird).</translation>
    </message>
    <message>
        <source>show|delete ID</source>
        <translation>show|delete ID</translation>
    </message>
    <message>
        <source>show or delete.</source>
        <translation>show oder delete.</translation>
    </message>
    <message>
        <source>The registration id.</source>
        <translation>Die Registrierungs-ID.</translation>
    </message>
    <message>
        <source>dps registration takes show or delete, not &quot;%1&quot;.</source>
        <translation>dps registration kennt show oder delete, nicht „%1“.</translation>
    </message>
    <message>
        <source>Registers a device with the DPS from this computer, as the device will (MQTT, the ID scope, its credential): the enrollment proven end to end. X.509 uses the certificate and key kept here for the id; a symmetric-key enrollment uses its key, a symmetric-key group (--group) the key derived from the group&apos;s. Prints the assigned hub and device id.</source>
        <translation>Registriert ein Gerät von diesem Computer aus beim DPS, so wie es das Gerät tun wird (MQTT, der ID scope, seine Anmeldedaten): Der Registrierungseintrag wird durchgängig geprüft. X.509 verwendet das hier für die ID aufbewahrte Zertifikat samt Schlüssel; ein Registrierungseintrag mit symmetrischem Schlüssel verwendet dessen Schlüssel, eine Gruppe mit symmetrischem Schlüssel (--group) den aus dem Schlüssel der Gruppe abgeleiteten. Gibt den zugewiesenen Hub und die Geräte-ID aus.</translation>
    </message>
    <message>
        <source>The device belongs to this symmetric-key enrollment group.</source>
        <translation>Das Gerät gehört zu dieser Registrierungsgruppe mit symmetrischem Schlüssel.</translation>
    </message>
    <message>
        <source>Give up after S seconds (default 60).</source>
        <translation>Nach S Sekunden aufgeben (Standard 60).</translation>
    </message>
    <message>
        <source>Registered %1: assigned to hub %2 as device %3 (%4).</source>
        <translation>%1 registriert: dem Hub %2 als Gerät %3 zugewiesen (%4).</translation>
    </message>
    <message>
        <source>Device Provisioning Services (--dps NAME, or the current one): enrollments, groups, registrations.</source>
        <translation>Device Provisioning Services (--dps NAME oder der aktuelle): Registrierungseinträge, Gruppen, Registrierungen.</translation>
    </message>
    <message>
        <source>Add a DPS; connection string on standard input.</source>
        <translation>Einen DPS hinzufügen; Verbindungszeichenfolge über die Standardeingabe.</translation>
    </message>
    <message>
        <source>List DPS instances.</source>
        <translation>DPS-Instanzen auflisten.</translation>
    </message>
    <message>
        <source>Remove a DPS and its key.</source>
        <translation>Einen DPS und seinen Schlüssel entfernen.</translation>
    </message>
    <message>
        <source>Make a DPS the current one.</source>
        <translation>Einen DPS zum aktuellen machen.</translation>
    </message>
    <message>
        <source>Individual enrollments: list, show, create, delete.</source>
        <translation>Einzelne Registrierungseinträge: list, show, create, delete.</translation>
    </message>
    <message>
        <source>Enrollment groups: list, show, create, delete, device-key.</source>
        <translation>Registrierungsgruppen: list, show, create, delete, device-key.</translation>
    </message>
    <message>
        <source>Registration states: show, delete.</source>
        <translation>Registrierungsstatus: show, delete.</translation>
    </message>
    <message>
        <source>Register a device from this computer (a test registration).</source>
        <translation>Ein Gerät von diesem Computer aus registrieren (eine Testregistrierung).</translation>
    </message>
    <message>
        <source>Usage: onboarder-cli [--hub NAME] [--dps NAME] [--json] &lt;noun&gt; &lt;verb&gt; [arguments]

Onboard and monitor Azure IoT Hub devices. Secrets are read from standard input or a file, never from arguments.

Commands:
</source>
        <translation>Aufruf: onboarder-cli [--hub NAME] [--dps NAME] [--json] &lt;Bereich&gt; &lt;Aktion&gt; [Argumente]

Geräte für Azure IoT Hub einrichten und überwachen. Geheimnisse werden von der Standardeingabe oder aus einer Datei gelesen, nie aus Argumenten.

Befehle:
</translation>
    </message>
    <message>
        <source>Makes the verification certificate that proves this computer holds an imported CA&apos;s key (proof of possession): its subject is the verification code the Azure portal shows for the CA (IoT Hub or DPS → Certificates → Generate verification code), signed by the CA&apos;s key from the keychain. Upload the file there to mark the CA verified. The certificate&apos;s own key is thrown away.</source>
        <translation>Erstellt das Verifizierungszertifikat, das belegt, dass dieser Computer den Schlüssel einer importierten CA besitzt (Nachweis des Besitzes): Sein Subjekt ist der Verifizierungscode, den das Azure-Portal für die CA anzeigt (IoT Hub oder DPS → Zertifikate → Verifizierungscode generieren), signiert mit dem Schlüssel der CA aus dem Schlüsselbund. Laden Sie die Datei dort hoch, um die CA als verifiziert zu markieren. Der eigene Schlüssel des Zertifikats wird verworfen.</translation>
    </message>
    <message>
        <source>The imported CA (cred import-ca).</source>
        <translation>Die importierte CA (cred import-ca).</translation>
    </message>
    <message>
        <source>The verification code from the portal.</source>
        <translation>Der Verifizierungscode aus dem Portal.</translation>
    </message>
    <message>
        <source>CODE</source>
        <translation>CODE</translation>
    </message>
    <message>
        <source>The certificate file (PEM) to write; it must not exist.</source>
        <translation>Die zu schreibende Zertifikatsdatei (PEM); sie darf nicht existieren.</translation>
    </message>
    <message>
        <source>cred verification-cert needs --ca NAME, --code CODE and --out FILE.</source>
        <translation>cred verification-cert braucht --ca NAME, --code CODE und --out DATEI.</translation>
    </message>
    <message>
        <source>%1 exists already; nothing was written.</source>
        <translation>%1 existiert bereits; es wurde nichts geschrieben.</translation>
    </message>
    <message>
        <source>%1 could not be written: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Wrote the verification certificate for code %1, signed by CA &quot;%2&quot;, to %3. Upload it in the portal where the code was shown.</source>
        <translation>Das Verifizierungszertifikat für Code %1, signiert von CA „%2“, wurde nach %3 geschrieben. Laden Sie es im Portal dort hoch, wo der Code angezeigt wurde.</translation>
    </message>
    <message>
        <source>Prove possession of an imported CA for the portal.</source>
        <translation>Den Besitz einer importierten CA für das Portal nachweisen.</translation>
    </message>
    <message>
        <source>ENROLLMENT</source>
        <translation>REGISTRIERUNGSEINTRAG</translation>
    </message>
    <message>
        <source>The profile provisions through the DPS &quot;%1&quot;, which was not added (onboarder-cli dps add).</source>
        <translation>Das Profil provisioniert über den DPS „%1“, der nicht hinzugefügt wurde (onboarder-cli dps add).</translation>
    </message>
    <message>
        <source>BY</source>
        <translation>VON</translation>
    </message>
    <message>
        <source>Checks whether the modem can reach the hub: identity, SIM, LTE modes, network registration, signal, cell, clock and the credentials in --tag, with one verdict. Exit code 0 when the verdict is &quot;ready&quot;, 4 when it is not.</source>
        <translation>Prüft, ob das Modem den Hub erreichen kann: Identität, SIM, LTE-Modi, Netzregistrierung, Signal, Zelle, Uhr und die Anmeldedaten in --tag, mit einem Gesamtergebnis. Exit-Code 0, wenn das Ergebnis „bereit“ lautet, sonst 4.</translation>
    </message>
    <message>
        <source>Also check the credentials in this security tag (the firmware&apos;s).</source>
        <translation>Auch die Anmeldedaten in diesem Sicherheits-Tag prüfen (dem der Firmware).</translation>
    </message>
    <message>
        <source>When LTE is off, switch it on for the check (AT+CFUN=1) and back to the mode it was in after.</source>
        <translation>Wenn LTE aus ist, es für die Prüfung einschalten (AT+CFUN=1) und danach in den vorherigen Modus zurückschalten.</translation>
    </message>
    <message>
        <source>Verdict: %1</source>
        <translation>Ergebnis: %1</translation>
    </message>
    <message>
        <source>Sends one AT command and prints the modem&apos;s answer. Commands that change the modem (AT+CFUN=, AT%XFACTORYRESET, a credential deletion, …) need --yes; credential writes and PINs are refused (they would stand in the command line: use &quot;modem creds write&quot;).</source>
        <translation>Sendet einen AT-Befehl und gibt die Antwort des Modems aus. Befehle, die das Modem verändern (AT+CFUN=, AT%XFACTORYRESET, das Löschen von Anmeldedaten, …), erfordern --yes; das Schreiben von Anmeldedaten und PINs wird abgelehnt (sie stünden in der Befehlszeile: Verwenden Sie &quot;modem creds write&quot;).</translation>
    </message>
    <message>
        <source>The AT command, e.g. &apos;AT+CEREG?&apos;.</source>
        <translation>Der AT-Befehl, z. B. &apos;AT+CEREG?&apos;.</translation>
    </message>
    <message>
        <source>Confirm a command that changes the modem.</source>
        <translation>Einen Befehl bestätigen, der das Modem verändert.</translation>
    </message>
    <message>
        <source>Seconds to wait for the answer (default 10).</source>
        <translation>Sekunden, die auf die Antwort gewartet wird (Standard 10).</translation>
    </message>
    <message>
        <source>%1 Add --yes to send it.</source>
        <translation>%1 Fügen Sie --yes hinzu, um ihn zu senden.</translation>
    </message>
    <message>
        <source>Reads the modem&apos;s attestation token (AT%ATTESTTOKEN, firmware 1.3 and later) and decodes it: device UUID, device type and modem firmware UUID. The token proves to nRF Cloud&apos;s identity service that the modem is genuine; its signature is not checked here.</source>
        <translation>Liest das Attestierungstoken des Modems (AT%ATTESTTOKEN, Firmware 1.3 und neuer) und decodiert es: Geräte-UUID, Gerätetyp und Firmware-UUID des Modems. Das Token weist dem Identitätsdienst von nRF Cloud nach, dass das Modem echt ist; seine Signatur wird hier nicht geprüft.</translation>
    </message>
    <message>
        <source>Reading the attestation token</source>
        <translation>Lesen des Attestierungstokens</translation>
    </message>
    <message>
        <source>The modem&apos;s attestation token cannot be read: &quot;%1&quot;.</source>
        <translation>Das Attestierungstoken des Modems ist nicht lesbar: „%1“.</translation>
    </message>
    <message>
        <source>Device UUID</source>
        <translation>Geräte-UUID</translation>
    </message>
    <message>
        <source>Device type</source>
        <translation>Gerätetyp</translation>
    </message>
    <message>
        <source>Firmware UUID</source>
        <translation>Firmware-UUID</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>Will it connect? SIM, network, signal, clock, credentials: a verdict.</source>
        <translation>Verbindung möglich? SIM, Netz, Signal, Uhr, Anmeldedaten: ein Ergebnis.</translation>
    </message>
    <message>
        <source>Send one AT command and print the answer.</source>
        <translation>Einen AT-Befehl senden und die Antwort ausgeben.</translation>
    </message>
    <message>
        <source>Read and decode the modem&apos;s attestation token.</source>
        <translation>Das Attestierungstoken des Modems lesen und decodieren.</translation>
    </message>
    <message numerus="yes">
        <source>Deleted %n credential(s) in security tag %1.</source>
        <translation>
            <numerusform>%n Anmeldedatensatz im Sicherheits-Tag %1 gelöscht.</numerusform>
            <numerusform>%n Anmeldedatensätze im Sicherheits-Tag %1 gelöscht.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Deleted before: %n; still in the tag: %1.</source>
        <translation>
            <numerusform>Zuvor gelöscht: %n; noch im Tag: %1.</numerusform>
            <numerusform>Zuvor gelöscht: %n; noch im Tag: %1.</numerusform>
        </translation>
    </message>
    <message>
        <source>Deletes a credential from the modem (in offline mode and back); with --all, every credential in --tag.</source>
        <translation>Löscht Anmeldedaten aus dem Modem (im Offline-Modus und zurück); mit --all alle Anmeldedaten in --tag.</translation>
    </message>
    <message>
        <source>Every type in --tag (needs --yes).</source>
        <translation>Alle Typen in --tag (braucht --yes).</translation>
    </message>
    <message>
        <source>Confirm --all.</source>
        <translation>--all bestätigen.</translation>
    </message>
    <message>
        <source>creds delete --all needs --tag and no --type.</source>
        <translation>creds delete --all braucht --tag und kein --type.</translation>
    </message>
    <message>
        <source>Delete every credential in security tag %1?</source>
        <translation>Alle Anmeldedaten im Sicherheits-Tag %1 löschen?</translation>
    </message>
    <message>
        <source>every credential in a tag</source>
        <translation>alle Anmeldedaten eines Tags</translation>
    </message>
    <message>
        <source>Delete a credential; --all: every one in a tag.</source>
        <translation>Anmeldedaten löschen; --all: alle in einem Tag.</translation>
    </message>
    <message>
        <source>warning: %1</source>
        <translation>Warnung: %1</translation>
    </message>
    <message>
        <source>Flashes what the nRF Connect SDK&apos;s Azure IoT Hub library needs into the modem: DigiCert Global Root G2, the device certificate and private key in --tag, Microsoft RSA Root Certificate Authority 2017 in --secondary-tag (or next to DigiCert in --tag). Offline mode before, the previous mode after; each credential is verified by SHA-256; what is stored already is not written again. An expired root is refused unless --allow-expired-roots; a certificate that ends within 30 days is warned about.</source>
        <translation>Flasht, was die Azure-IoT-Hub-Bibliothek des nRF Connect SDK im Modem braucht: DigiCert Global Root G2, Gerätezertifikat und privaten Schlüssel in --tag, Microsoft RSA Root Certificate Authority 2017 in --secondary-tag (oder neben DigiCert in --tag). Vorher Offline-Modus, danach der vorige Modus; jede Anmeldeinformation wird per SHA-256 geprüft; was schon gespeichert ist, wird nicht noch einmal geschrieben. Ein abgelaufenes Stammzertifikat wird ohne --allow-expired-roots abgelehnt; vor einem Zertifikat, das in weniger als 30 Tagen endet, wird gewarnt.</translation>
    </message>
    <message>
        <source>Flash a root CA certificate even when it has expired (a modem cannot check the hub with it).</source>
        <translation>Ein Stamm-CA-Zertifikat auch dann flashen, wenn es abgelaufen ist (ein Modem kann den Hub damit nicht prüfen).</translation>
    </message>
    <message>
        <source>Seconds a modem that is searching (or that --lte-on switched on) is given to register (default 60).</source>
        <translation>Sekunden, die ein suchendes (oder mit --lte-on eingeschaltetes) Modem zum Einbuchen bekommt (Standard 60).</translation>
    </message>
    <message>
        <source>
Global options:
  --hub NAME   the hub to work on (default: the current one)
  --dps NAME   the Device Provisioning Service to work on (default: the current one)
  --json       print JSON on standard output
  --version    print the version
  --help       this text; also after a noun or a verb

Exit codes: 0 ok, 1 usage, 2 invalid input, 3 not found, 4 conflict, 5 auth refused, 6 network, 7 device, 8 keychain unavailable, 10 internal, 130 cancelled.
</source>
        <translation>
Globale Optionen:
  --hub NAME   der Hub, mit dem gearbeitet wird (Standard: der aktuelle)
  --dps NAME   der Device Provisioning Service, mit dem gearbeitet wird (Standard: der aktuelle)
  --json       JSON auf der Standardausgabe ausgeben
  --version    die Version ausgeben
  --help       dieser Text; auch nach einem Bereich oder einer Aktion

Exit-Codes: 0 ok, 1 Aufruf, 2 ungültige Eingabe, 3 nicht gefunden, 4 Konflikt, 5 Authentifizierung abgelehnt, 6 Netzwerk, 7 Gerät, 8 Schlüsselbund nicht verfügbar, 10 intern, 130 abgebrochen.
</translation>
    </message>
    <message>
        <source>Lists the messages the relay set aside because the hub can never take them (larger than 256 KB, or without a valid device id), with the reason. --export writes them, payloads included, to a new file (JSON Lines, owner-only); --purge deletes them.</source>
        <translation>Listet die Nachrichten, die das Relay zurückgestellt hat, weil der Hub sie nie annehmen kann (größer als 256 KB oder ohne gültige Geräte-ID), mit dem Grund. --export schreibt sie samt Nutzdaten in eine neue Datei (JSON Lines, nur für den Eigentümer lesbar); --purge löscht sie.</translation>
    </message>
    <message>
        <source>Write them to FILE, which must not exist.</source>
        <translation>Sie in DATEI schreiben, die noch nicht existieren darf.</translation>
    </message>
    <message>
        <source>Delete them (after --export, when both are given).</source>
        <translation>Sie löschen (nach --export, wenn beides angegeben ist).</translation>
    </message>
    <message>
        <source>Confirm --purge.</source>
        <translation>--purge bestätigen.</translation>
    </message>
    <message>
        <source>Delete the %1 dead letters of %2 for good?</source>
        <translation>Die %1 unzustellbaren Nachrichten von %2 endgültig löschen?</translation>
    </message>
    <message>
        <source>the dead letters</source>
        <translation>die unzustellbaren Nachrichten</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(keine)</translation>
    </message>
    <message>
        <source>No dead letters in %1.</source>
        <translation>Keine unzustellbaren Nachrichten in %1.</translation>
    </message>
    <message>
        <source>RECEIVED</source>
        <translation>EMPFANGEN</translation>
    </message>
    <message>
        <source>BYTES</source>
        <translation>BYTES</translation>
    </message>
    <message>
        <source>REASON</source>
        <translation>GRUND</translation>
    </message>
    <message>
        <source>Wrote %1 dead letters to %2.</source>
        <translation>%1 unzustellbare Nachrichten nach %2 geschrieben.</translation>
    </message>
    <message>
        <source>Deleted %1 dead letters.</source>
        <translation>%1 unzustellbare Nachrichten gelöscht.</translation>
    </message>
    <message>
        <source>Messages set aside that the hub can never take; --export, --purge.</source>
        <translation>Zurückgestellte Nachrichten, die der Hub nie annehmen kann; --export, --purge.</translation>
    </message>
    <message>
        <source>Prints a device&apos;s connection string, its key masked unless --reveal. To hand it to someone, write it OpenPGP-encrypted to them (--gpg RECIPIENT --out FILE); --qr --reveal shows it as a QR code; --out FILE --unencrypted writes it as plain text (a new file only you can read). With --expires it carries a token that stops working after that long instead of the key: the safer hand-over.</source>
        <translation>Gibt die Verbindungszeichenfolge eines Geräts aus, den Schlüssel maskiert, außer mit --reveal. Zur Weitergabe an jemanden verschlüsselt mit OpenPGP für diese Person schreiben (--gpg EMPFÄNGER --out DATEI); --qr --reveal zeigt sie als QR-Code; --out DATEI --unencrypted schreibt sie als Klartext (eine neue Datei, die nur Sie lesen können). Mit --expires enthält sie statt des Schlüssels ein Token, das nach dieser Zeit nicht mehr gilt: die sicherere Weitergabe.</translation>
    </message>
    <message>
        <source>DURATION</source>
        <translation>DAUER</translation>
    </message>
    <message>
        <source>the connection string valid until %1</source>
        <translation>die Verbindungszeichenfolge, gültig bis %1</translation>
    </message>
    <message>
        <source>Wrote %1 of &quot;%2&quot; UNENCRYPTED to %3 (mode 0600). Delete it once it has been handed over.</source>
        <translation>%1 von „%2“ UNVERSCHLÜSSELT nach %3 geschrieben (Modus 0600). Löschen Sie die Datei, sobald sie übergeben ist.</translation>
    </message>
    <message>
        <source>regenerate: the primary key.</source>
        <translation>regenerate: der primäre Schlüssel.</translation>
    </message>
    <message>
        <source>regenerate: the secondary key.</source>
        <translation>regenerate: der sekundäre Schlüssel.</translation>
    </message>
    <message>
        <source>Print the new keys themselves.</source>
        <translation>Die neuen Schlüssel selbst ausgeben.</translation>
    </message>
    <message>
        <source>regenerate takes one of --primary and --secondary.</source>
        <translation>regenerate braucht genau eines von --primary und --secondary.</translation>
    </message>
    <message>
        <source>swap changes both keys: it takes no --primary or --secondary.</source>
        <translation>swap ändert beide Schlüssel: Es nimmt weder --primary noch --secondary.</translation>
    </message>
    <message>
        <source>Change the keys on hub &quot;%1&quot;?</source>
        <translation>Die Schlüssel auf dem Hub „%1“ ändern?</translation>
    </message>
    <message>
        <source>Changing keys needs --yes when there is no terminal to ask on. %1</source>
        <translation>Ohne Terminal für die Rückfrage braucht das Ändern von Schlüsseln --yes. %1</translation>
    </message>
    <message>
        <source>The keys were not changed.</source>
        <translation>Die Schlüssel wurden nicht geändert.</translation>
    </message>
    <message>
        <source>Swapped the keys of &quot;%1&quot;.</source>
        <translation>Die Schlüssel von „%1“ wurden getauscht.</translation>
    </message>
    <message>
        <source>Regenerated the primary key of &quot;%1&quot;.</source>
        <translation>Der primäre Schlüssel von „%1“ wurde neu erzeugt.</translation>
    </message>
    <message>
        <source>Regenerated the secondary key of &quot;%1&quot;.</source>
        <translation>Der sekundäre Schlüssel von „%1“ wurde neu erzeugt.</translation>
    </message>
    <message>
        <source>Changes a device&apos;s credentials: a SAS device&apos;s keys with regenerate --primary or --secondary (a new random key, as when one leaked) or swap; a self-signed X.509 device&apos;s thumbprints with thumbprint (its new certificate becomes the primary, the old one stays secondary). Says first what it breaks and whether the device is connected, and asks unless --yes. New keys are masked unless --reveal.</source>
        <translation>Ändert die Anmeldedaten eines Geräts: die Schlüssel eines SAS-Geräts mit regenerate --primary oder --secondary (ein neuer Zufallsschlüssel, etwa wenn einer bekannt wurde) oder swap; die Fingerabdrücke eines selbstsignierten X.509-Geräts mit thumbprint (sein neues Zertifikat wird primär, das alte bleibt sekundär). Sagt zuerst, was dadurch nicht mehr funktioniert und ob das Gerät verbunden ist, und fragt nach, außer mit --yes. Neue Schlüssel sind maskiert, außer mit --reveal.</translation>
    </message>
    <message>
        <source>regenerate, swap or thumbprint.</source>
        <translation>regenerate, swap oder thumbprint.</translation>
    </message>
    <message>
        <source>thumbprint: the device&apos;s new certificate (PEM).</source>
        <translation>thumbprint: das neue Zertifikat des Geräts (PEM).</translation>
    </message>
    <message>
        <source>thumbprint: the new certificate&apos;s SHA-1 or SHA-256 thumbprint. Without --cert and --thumbprint, the certificate made here with cred generate (--replace) is used.</source>
        <translation>thumbprint: der SHA-1- oder SHA-256-Fingerabdruck des neuen Zertifikats. Ohne --cert und --thumbprint wird das hier mit cred generate (--replace) erstellte Zertifikat verwendet.</translation>
    </message>
    <message>
        <source>--cert and --thumbprint go with the thumbprint action.</source>
        <translation>--cert und --thumbprint gehören zur Aktion thumbprint.</translation>
    </message>
    <message>
        <source>thumbprint always registers the new certificate as primary: no --primary or --secondary.</source>
        <translation>thumbprint registriert das neue Zertifikat immer als primär: kein --primary oder --secondary.</translation>
    </message>
    <message>
        <source>Unknown action &quot;%1&quot;: device keys regenerate|swap|thumbprint ID.</source>
        <translation>Unbekannte Aktion „%1“: device keys regenerate|swap|thumbprint ID.</translation>
    </message>
    <message>
        <source>Registered the certificate %1 as the primary of &quot;%2&quot;; the one before stays secondary.</source>
        <translation>Das Zertifikat %1 ist nun das primäre von „%2“; das bisherige bleibt sekundär.</translation>
    </message>
    <message>
        <source>Regenerate or swap a SAS device&apos;s keys; register an X.509 device&apos;s new certificate.</source>
        <translation>Die Schlüssel eines SAS-Geräts neu erzeugen oder tauschen; das neue Zertifikat eines X.509-Geräts registrieren.</translation>
    </message>
    <message>
        <source>The device&apos;s module MODULE instead of the device itself.</source>
        <translation>Das Modul MODUL des Geräts statt des Geräts selbst.</translation>
    </message>
    <message>
        <source>MODULE</source>
        <translation>MODUL</translation>
    </message>
    <message>
        <source>Prints a device&apos;s (or its module&apos;s) twin as JSON (tags, desired and reported properties).</source>
        <translation>Gibt den Twin eines Geräts (oder seines Moduls) als JSON aus (Tags, gewünschte und gemeldete Eigenschaften).</translation>
    </message>
    <message>
        <source>Invokes a direct method on a connected device (or its module) and prints its status and payload.</source>
        <translation>Ruft eine direkte Methode auf einem verbundenen Gerät (oder seinem Modul) auf und gibt Status und Nutzlast aus.</translation>
    </message>
    <message>
        <source>The device &quot;%1&quot;</source>
        <translation>Das Gerät „%1“</translation>
    </message>
    <message>
        <source>The module &quot;%1&quot; of device &quot;%2&quot;</source>
        <translation>Das Modul „%1“ des Geräts „%2“</translation>
    </message>
    <message>
        <source>%1 authenticates with an X.509 certificate: there is no key to sign an expiring token with, and its connection string holds no secret.</source>
        <translation>%1 authentifiziert sich mit einem X.509-Zertifikat: Es gibt keinen Schlüssel, mit dem sich ein ablaufendes Token signieren ließe, und seine Verbindungszeichenfolge enthält kein Geheimnis.</translation>
    </message>
    <message>
        <source>%1 has no authentication, so it has no connection string.</source>
        <translation>%1 hat keine Authentifizierung und daher keine Verbindungszeichenfolge.</translation>
    </message>
    <message>
        <source>A connection string without the key, with a SAS token valid for DURATION (e.g. 30m, 12h, 7d; at most 365d), signed with the key.</source>
        <translation>Eine Verbindungszeichenfolge ohne den Schlüssel, mit einem SAS-Token, das DAUER lang gültig ist (z. B. 30m, 12h, 7d; höchstens 365d), signiert mit dem Schlüssel.</translation>
    </message>
    <message>
        <source>the connection string of module &quot;%1&quot;</source>
        <translation>die Verbindungszeichenfolge des Moduls „%1“</translation>
    </message>
    <message>
        <source>the connection string of module &quot;%1&quot; valid until %2</source>
        <translation>die bis %2 gültige Verbindungszeichenfolge des Moduls „%1“</translation>
    </message>
    <message>
        <source>The module id.</source>
        <translation>Die Modul-ID.</translation>
    </message>
    <message>
        <source>Module</source>
        <translation>Modul</translation>
    </message>
    <message>
        <source>Managed by</source>
        <translation>Verwaltet von</translation>
    </message>
    <message>
        <source>nobody</source>
        <translation>niemandem</translation>
    </message>
    <message>
        <source>Lists a device&apos;s modules: their connection state, last activity and authentication.</source>
        <translation>Listet die Module eines Geräts auf: Verbindungsstatus, letzte Aktivität und Authentifizierung.</translation>
    </message>
    <message>
        <source>MANAGED BY</source>
        <translation>VERWALTET VON</translation>
    </message>
    <message>
        <source>Adds a module identity to a device. Its SAS keys are generated by the hub; a self-signed X.509 module needs its certificate&apos;s thumbprint (--thumbprint).</source>
        <translation>Fügt einem Gerät eine Modulidentität hinzu. Seine SAS-Schlüssel erzeugt der Hub; ein selbstsigniertes X.509-Modul braucht den Fingerabdruck seines Zertifikats (--thumbprint).</translation>
    </message>
    <message>
        <source>Authenticate with a self-signed X.509 certificate of this SHA-1 or SHA-256 thumbprint.</source>
        <translation>Mit einem selbstsignierten X.509-Zertifikat dieses SHA-1- oder SHA-256-Fingerabdrucks authentifizieren.</translation>
    </message>
    <message>
        <source>--thumbprint takes 40 (SHA-1) or 64 (SHA-256) hex digits.</source>
        <translation>--thumbprint erwartet 40 (SHA-1) oder 64 (SHA-256) Hexziffern.</translation>
    </message>
    <message>
        <source>Added module &quot;%1&quot; to device &quot;%2&quot; (%3).</source>
        <translation>Modul „%1“ zum Gerät „%2“ hinzugefügt (%3).</translation>
    </message>
    <message>
        <source>Shows a module&apos;s identity: connection, last activity, authentication (keys masked).</source>
        <translation>Zeigt die Identität eines Moduls: Verbindung, letzte Aktivität, Authentifizierung (Schlüssel maskiert).</translation>
    </message>
    <message>
        <source>Deletes a module identity from a device, with its keys and twin. Asks first unless --yes.</source>
        <translation>Löscht eine Modulidentität eines Geräts mit ihren Schlüsseln und ihrem Twin. Fragt vorher, außer mit --yes.</translation>
    </message>
    <message>
        <source>Delete module &quot;%1&quot; of device &quot;%2&quot; from hub &quot;%3&quot;?</source>
        <translation>Modul „%1“ des Geräts „%2“ aus dem Hub „%3“ löschen?</translation>
    </message>
    <message>
        <source>module &quot;%1&quot; of device &quot;%2&quot;</source>
        <translation>Modul „%1“ des Geräts „%2“</translation>
    </message>
    <message>
        <source>Deleted module &quot;%1&quot; of device &quot;%2&quot;.</source>
        <translation>Modul „%1“ des Geräts „%2“ gelöscht.</translation>
    </message>
    <message>
        <source>Prints a module&apos;s connection string, its key masked unless --reveal; hands it over as device connection-string does (--gpg, --qr, --expires, --unencrypted).</source>
        <translation>Gibt die Verbindungszeichenfolge eines Moduls aus, den Schlüssel maskiert außer mit --reveal; übergibt sie wie device connection-string (--gpg, --qr, --expires, --unencrypted).</translation>
    </message>
    <message>
        <source>A device&apos;s modules (their twins and methods: twin and method with --module).</source>
        <translation>Die Module eines Geräts (ihre Twins und Methoden: twin und method mit --module).</translation>
    </message>
    <message>
        <source>List a device&apos;s modules.</source>
        <translation>Die Module eines Geräts auflisten.</translation>
    </message>
    <message>
        <source>Add a module to a device.</source>
        <translation>Einem Gerät ein Modul hinzufügen.</translation>
    </message>
    <message>
        <source>Show a module&apos;s identity.</source>
        <translation>Die Identität eines Moduls zeigen.</translation>
    </message>
    <message>
        <source>Delete a module.</source>
        <translation>Ein Modul löschen.</translation>
    </message>
    <message>
        <source>Print a module&apos;s connection string.</source>
        <translation>Die Verbindungszeichenfolge eines Moduls ausgeben.</translation>
    </message>
    <message>
        <source>Register the devices of a CSV or JSON Lines file, 100 a request; resumable.</source>
        <translation>Die Geräte einer CSV- oder JSON-Lines-Datei registrieren, 100 je Anfrage; fortsetzbar.</translation>
    </message>
    <message>
        <source>Registers the devices of a CSV or JSON Lines file in the hub, 100 a request, with progress on standard error. CSV: a header, then one device a row; columns id (required), auth (sas, x509-self-signed, x509-ca), status (enabled, disabled), thumbprint (x509-self-signed), tags (a JSON object). JSON Lines: one object a line with the same names. SAS keys are made by the hub. A device that exists already is left as it is, so running the same import again after a failure or Ctrl+C finishes it and duplicates nothing. Rows that are not imported are written with their reasons to the report (a new CSV file).</source>
        <translation>Registriert die Geräte einer CSV- oder JSON-Lines-Datei im Hub, 100 je Anfrage, mit Fortschritt auf der Standardfehlerausgabe. CSV: eine Kopfzeile, dann ein Gerät je Zeile; Spalten id (erforderlich), auth (sas, x509-self-signed, x509-ca), status (enabled, disabled), thumbprint (x509-self-signed), tags (ein JSON-Objekt). JSON Lines: ein Objekt je Zeile mit denselben Namen. SAS-Schlüssel erzeugt der Hub. Ein bereits vorhandenes Gerät bleibt, wie es ist; derselbe Import nach einem Fehler oder Strg+C erneut ausgeführt, schließt ihn daher ab und legt nichts doppelt an. Nicht importierte Zeilen werden mit ihren Gründen in den Bericht geschrieben (eine neue CSV-Datei).</translation>
    </message>
    <message>
        <source>The devices: .csv, or .jsonl / .ndjson.</source>
        <translation>Die Geräte: .csv oder .jsonl / .ndjson.</translation>
    </message>
    <message>
        <source>Write the rows that were not imported, and why, to FILE (default: FILE.report.csv, replaced).</source>
        <translation>Die nicht importierten Zeilen und ihre Gründe in DATEI schreiben (Standard: DATEI.report.csv, wird ersetzt).</translation>
    </message>
    <message>
        <source>csv or jsonl (default: from the file&apos;s name or content).</source>
        <translation>csv oder jsonl (Standard: aus Name oder Inhalt der Datei).</translation>
    </message>
    <message>
        <source>FORMAT</source>
        <translation>FORMAT</translation>
    </message>
    <message>
        <source>--format is csv or jsonl, not &quot;%1&quot;.</source>
        <translation>--format ist csv oder jsonl, nicht „%1“.</translation>
    </message>
    <message>
        <source>%1 of %2 sent</source>
        <translation>%1 von %2 gesendet</translation>
    </message>
    <message>
        <source>Created %1 devices, %2 existed already, %3 not imported (%4), in %5 s.</source>
        <translation>%1 Geräte angelegt, %2 waren schon vorhanden, %3 nicht importiert (%4), in %5 s.</translation>
    </message>
    <message>
        <source>reasons in %1</source>
        <translation>Gründe in %1</translation>
    </message>
    <message>
        <source>the report %1 could not be written</source>
        <translation>der Bericht %1 konnte nicht geschrieben werden</translation>
    </message>
    <message>
        <source>Stopped after %1 of %2 rows: %3 Run the same import again to finish it.</source>
        <translation>Nach %1 von %2 Zeilen angehalten: %3 Führen Sie denselben Import erneut aus, um ihn abzuschließen.</translation>
    </message>
    <message>
        <source>--module needs a module id.</source>
        <translation>--module braucht eine Modul-ID.</translation>
    </message>
    <message>
        <source>Write the hub&apos;s devices to a CSV or JSON Lines file; keys only with --with-keys --gpg.</source>
        <translation>Die Geräte des Hubs in eine CSV- oder JSON-Lines-Datei schreiben; Schlüssel nur mit --with-keys --gpg.</translation>
    </message>
    <message>
        <source>Writes the hub&apos;s devices to a new CSV or JSON Lines file that device import takes back: id, auth, status, thumbprint, tags. Keys only with --with-keys, and then only OpenPGP-encrypted to --gpg RECIPIENT.</source>
        <translation>Schreibt die Geräte des Hubs in eine neue CSV- oder JSON-Lines-Datei, die device import zurücknimmt: id, auth, status, thumbprint, tags. Schlüssel nur mit --with-keys, und dann nur OpenPGP-verschlüsselt für --gpg EMPFÄNGER.</translation>
    </message>
    <message>
        <source>A new file: .csv, or .jsonl / .ndjson.</source>
        <translation>Eine neue Datei: .csv oder .jsonl / .ndjson.</translation>
    </message>
    <message>
        <source>csv or jsonl (default: from the file&apos;s name; csv).</source>
        <translation>csv oder jsonl (Standard: aus dem Dateinamen; csv).</translation>
    </message>
    <message>
        <source>Only the devices of this IoT Hub query (default: SELECT * FROM devices).</source>
        <translation>Nur die Geräte dieser IoT-Hub-Abfrage (Standard: SELECT * FROM devices).</translation>
    </message>
    <message>
        <source>Also each SAS device&apos;s keys (needs --gpg).</source>
        <translation>Auch die Schlüssel jedes SAS-Geräts (braucht --gpg).</translation>
    </message>
    <message>
        <source>Keys leave this computer only encrypted: give --gpg RECIPIENT with --with-keys.</source>
        <translation>Schlüssel verlassen diesen Computer nur verschlüsselt: Geben Sie mit --with-keys auch --gpg EMPFÄNGER an.</translation>
    </message>
    <message>
        <source>%1 devices with their keys</source>
        <translation>%1 Geräte mit ihren Schlüsseln</translation>
    </message>
    <message>
        <source>%1 devices</source>
        <translation>%1 Geräte</translation>
    </message>
    <message>
        <source>Wrote %1 devices to %2.</source>
        <translation>%1 Geräte nach %2 geschrieben.</translation>
    </message>
    <message>
        <source>Lists the hub&apos;s configurations (automatic device management) with how many devices each targets and has been applied to.</source>
        <translation>Listet die Konfigurationen des Hubs (automatische Geräteverwaltung) mit der Zahl der Geräte, auf die jede zielt und auf die sie angewendet wurde.</translation>
    </message>
    <message>
        <source>At most N configurations (1–100, default 100).</source>
        <translation>Höchstens N Konfigurationen (1–100, Standard 100).</translation>
    </message>
    <message>
        <source>CONFIGURATION</source>
        <translation>KONFIGURATION</translation>
    </message>
    <message>
        <source>PRIORITY</source>
        <translation>PRIORITÄT</translation>
    </message>
    <message>
        <source>TARGETED</source>
        <translation>ZIELGERÄTE</translation>
    </message>
    <message>
        <source>APPLIED</source>
        <translation>ANGEWENDET</translation>
    </message>
    <message>
        <source>TARGET CONDITION</source>
        <translation>ZIELBEDINGUNG</translation>
    </message>
    <message>
        <source>Shows a configuration: its target condition, priority, labels, what it sets, and its metrics as the hub counts them now.</source>
        <translation>Zeigt eine Konfiguration: ihre Zielbedingung, Priorität, Labels, was sie setzt, und ihre Metriken, wie der Hub sie jetzt zählt.</translation>
    </message>
    <message>
        <source>The configuration&apos;s id.</source>
        <translation>Die ID der Konfiguration.</translation>
    </message>
    <message>
        <source>Configuration</source>
        <translation>Konfiguration</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <source>Target condition</source>
        <translation>Zielbedingung</translation>
    </message>
    <message>
        <source>Labels</source>
        <translation>Labels</translation>
    </message>
    <message>
        <source>Sets</source>
        <translation>Setzt</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>Erstellt</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>Geändert</translation>
    </message>
    <message>
        <source>system</source>
        <translation>System</translation>
    </message>
    <message>
        <source>METRIC</source>
        <translation>METRIK</translation>
    </message>
    <message>
        <source>DEVICES</source>
        <translation>GERÄTE</translation>
    </message>
    <message>
        <source>QUERY</source>
        <translation>ABFRAGE</translation>
    </message>
    <message>
        <source>The hub&apos;s configurations (automatic device management) and their metrics.</source>
        <translation>Die Konfigurationen des Hubs (automatische Geräteverwaltung) und ihre Metriken.</translation>
    </message>
    <message>
        <source>List the configurations.</source>
        <translation>Konfigurationen auflisten.</translation>
    </message>
    <message>
        <source>Show a configuration and its metrics.</source>
        <translation>Eine Konfiguration und ihre Metriken zeigen.</translation>
    </message>
    <message>
        <source>job %1: %2, %3 of %4 devices done, %5 failed</source>
        <translation>Job %1: %2, %3 von %4 Geräten fertig, %5 fehlgeschlagen</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>Job</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Typ</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>Geräte</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>Start</translation>
    </message>
    <message>
        <source>End</source>
        <translation>Ende</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Fortschritt</translation>
    </message>
    <message>
        <source>%1 devices: %2 succeeded, %3 failed, %4 running, %5 pending</source>
        <translation>%1 Geräte: %2 erfolgreich, %3 fehlgeschlagen, %4 laufen, %5 ausstehend</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <source>Failure</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>%1 of %2 devices failed; job show %3 --devices says why.</source>
        <translation>%1 von %2 Geräten sind fehlgeschlagen; job show %3 --devices sagt, warum.</translation>
    </message>
    <message>
        <source>The job %1 was cancelled before it finished.</source>
        <translation>Der Job %1 wurde abgebrochen, bevor er fertig war.</translation>
    </message>
    <message>
        <source>The job %1 failed: %2</source>
        <translation>Der Job %1 ist fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>Schedules a job on the devices a query condition selects: a twin update (--twin JSON, tags and desired properties merged into each twin) or a direct method (--method NAME). With --wait it follows the job until it ends, with progress on standard error; Ctrl+C stops the waiting, not the job (job cancel does).</source>
        <translation>Plant einen Job auf den Geräten, die eine Abfragebedingung auswählt: eine Twin-Aktualisierung (--twin JSON, Tags und gewünschte Eigenschaften werden in jeden Twin gemischt) oder eine direkte Methode (--method NAME). Mit --wait verfolgt es den Job bis zu seinem Ende, mit Fortschritt auf der Standardfehlerausgabe; Strg+C beendet das Warten, nicht den Job (das tut job cancel).</translation>
    </message>
    <message>
        <source>The new job&apos;s id.</source>
        <translation>Die ID des neuen Jobs.</translation>
    </message>
    <message>
        <source>The devices: a condition on their twins, e.g. &quot;tags.site = &apos;bench-1&apos;&quot; or &quot;deviceId IN [&apos;a&apos;, &apos;b&apos;]&quot;.</source>
        <translation>Die Geräte: eine Bedingung auf ihren Twins, z. B. &quot;tags.site = &apos;bench-1&apos;&quot; oder &quot;deviceId IN [&apos;a&apos;, &apos;b&apos;]&quot;.</translation>
    </message>
    <message>
        <source>CONDITION</source>
        <translation>BEDINGUNG</translation>
    </message>
    <message>
        <source>Update each twin with this patch, e.g. {&quot;tags&quot;:{&quot;fw&quot;:&quot;2.1&quot;},&quot;properties&quot;:{&quot;desired&quot;:{&quot;interval&quot;:30}}}.</source>
        <translation>Jeden Twin mit diesem Patch aktualisieren, z. B. {&quot;tags&quot;:{&quot;fw&quot;:&quot;2.1&quot;},&quot;properties&quot;:{&quot;desired&quot;:{&quot;interval&quot;:30}}}.</translation>
    </message>
    <message>
        <source>Invoke this direct method on each device.</source>
        <translation>Diese direkte Methode auf jedem Gerät aufrufen.</translation>
    </message>
    <message>
        <source>The method&apos;s JSON payload (default null).</source>
        <translation>Die JSON-Nutzlast der Methode (Standard null).</translation>
    </message>
    <message>
        <source>Seconds each device has to answer the method (5–300, default 30).</source>
        <translation>Sekunden, die jedes Gerät für die Antwort hat (5–300, Standard 30).</translation>
    </message>
    <message>
        <source>Seconds the hub waits for a device that is not connected (0–300, default 0).</source>
        <translation>Sekunden, die der Hub auf ein nicht verbundenes Gerät wartet (0–300, Standard 0).</translation>
    </message>
    <message>
        <source>When the job starts: an ISO 8601 time such as 2026-12-24T06:00:00Z (default: now).</source>
        <translation>Wann der Job beginnt: eine ISO-8601-Zeit wie 2026-12-24T06:00:00Z (Standard: jetzt).</translation>
    </message>
    <message>
        <source>Seconds the job may run before the hub stops it (1–172800, default 3600).</source>
        <translation>Sekunden, die der Job laufen darf, bevor der Hub ihn beendet (1–172800, Standard 3600).</translation>
    </message>
    <message>
        <source>Follow the job until it ends.</source>
        <translation>Den Job bis zu seinem Ende verfolgen.</translation>
    </message>
    <message>
        <source>--query CONDITION says which devices the job is for.</source>
        <translation>--query BEDINGUNG sagt, für welche Geräte der Job ist.</translation>
    </message>
    <message>
        <source>Give either --twin JSON or --method NAME.</source>
        <translation>Entweder --twin JSON oder --method NAME angeben.</translation>
    </message>
    <message>
        <source>--start takes an ISO 8601 time such as 2026-12-24T06:00:00Z.</source>
        <translation>--start nimmt eine ISO-8601-Zeit wie 2026-12-24T06:00:00Z.</translation>
    </message>
    <message>
        <source>Scheduled job %1 (%2); job show %1 follows it.</source>
        <translation>Job %1 geplant (%2); job show %1 verfolgt ihn.</translation>
    </message>
    <message>
        <source>Scheduled job %1; following it (Ctrl+C stops the waiting, not the job).</source>
        <translation>Job %1 geplant; er wird verfolgt (Strg+C beendet das Warten, nicht den Job).</translation>
    </message>
    <message>
        <source>answered %1: %2</source>
        <translation>antwortete %1: %2</translation>
    </message>
    <message>
        <source>Shows a job: its status and how many of its devices succeeded, failed, run or wait; with --devices, what it did on each device.</source>
        <translation>Zeigt einen Job: seinen Status und wie viele seiner Geräte erfolgreich waren, fehlschlugen, laufen oder warten; mit --devices, was er auf jedem Gerät tat.</translation>
    </message>
    <message>
        <source>The job&apos;s id.</source>
        <translation>Die ID des Jobs.</translation>
    </message>
    <message>
        <source>List each device with its status and result.</source>
        <translation>Jedes Gerät mit seinem Status und Ergebnis auflisten.</translation>
    </message>
    <message>
        <source>Lists the hub&apos;s jobs, newest first.</source>
        <translation>Listet die Jobs des Hubs, die neuesten zuerst.</translation>
    </message>
    <message>
        <source>Only jobs of this type (scheduleUpdateTwin, scheduleDeviceMethod).</source>
        <translation>Nur Jobs dieses Typs (scheduleUpdateTwin, scheduleDeviceMethod).</translation>
    </message>
    <message>
        <source>Only jobs in this status (queued, scheduled, running, completed, failed, cancelled).</source>
        <translation>Nur Jobs in diesem Status (queued, scheduled, running, completed, failed, cancelled).</translation>
    </message>
    <message>
        <source>%1/%2</source>
        <translation>%1/%2</translation>
    </message>
    <message>
        <source>JOB</source>
        <translation>JOB</translation>
    </message>
    <message>
        <source>CREATED</source>
        <translation>ERSTELLT</translation>
    </message>
    <message>
        <source>DONE</source>
        <translation>FERTIG</translation>
    </message>
    <message>
        <source>Cancels a job that has not ended: the devices it has not reached yet are left alone.</source>
        <translation>Bricht einen Job ab, der noch nicht beendet ist: die Geräte, die er noch nicht erreicht hat, bleiben unverändert.</translation>
    </message>
    <message>
        <source>Cancelled job %1: %2 of %3 devices were done.</source>
        <translation>Job %1 abgebrochen: %2 von %3 Geräten waren fertig.</translation>
    </message>
    <message>
        <source>The job %1 had ended already (%2).</source>
        <translation>Der Job %1 war schon beendet (%2).</translation>
    </message>
    <message>
        <source>The hub&apos;s jobs: a twin update or a direct method on many devices at once.</source>
        <translation>Die Jobs des Hubs: eine Twin-Aktualisierung oder eine direkte Methode auf vielen Geräten zugleich.</translation>
    </message>
    <message>
        <source>Schedule a twin update or a direct method.</source>
        <translation>Eine Twin-Aktualisierung oder eine direkte Methode planen.</translation>
    </message>
    <message>
        <source>Show a job and, with --devices, each device&apos;s result.</source>
        <translation>Einen Job zeigen und, mit --devices, das Ergebnis jedes Geräts.</translation>
    </message>
    <message>
        <source>List the hub&apos;s jobs.</source>
        <translation>Die Jobs des Hubs auflisten.</translation>
    </message>
    <message>
        <source>Cancel a job.</source>
        <translation>Einen Job abbrechen.</translation>
    </message>
    <message>
        <source>%1 is not valid JSON: %2 at character %3.</source>
        <translation>%1 ist kein gültiges JSON: %2 bei Zeichen %3.</translation>
    </message>
    <message>
        <source>%1 must be a JSON object.</source>
        <translation>%1 muss ein JSON-Objekt sein.</translation>
    </message>
    <message>
        <source>%1 must be one JSON value.</source>
        <translation>%1 muss genau ein JSON-Wert sein.</translation>
    </message>
    <message>
        <source>The patch</source>
        <translation>Der Patch</translation>
    </message>
    <message>
        <source>%1 Trying again.</source>
        <translation>%1 Neuer Versuch.</translation>
    </message>
    <message>
        <source>The hub has more jobs than these %1, the newest.</source>
        <translation>Der Hub hat mehr Jobs als diese %1 neuesten.</translation>
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
    <name>CredentialType</name>
    <message>
        <source>root CA certificate</source>
        <translation>CA-Stammzertifikat</translation>
    </message>
    <message>
        <source>client certificate</source>
        <translation>Client-Zertifikat</translation>
    </message>
    <message>
        <source>client private key</source>
        <translation>Client-Privatschlüssel</translation>
    </message>
    <message>
        <source>pre-shared key</source>
        <translation>Pre-Shared Key</translation>
    </message>
    <message>
        <source>PSK identity</source>
        <translation>PSK-Identität</translation>
    </message>
    <message>
        <source>public key</source>
        <translation>öffentlicher Schlüssel</translation>
    </message>
    <message>
        <source>device identity public key</source>
        <translation>öffentlicher Schlüssel der Geräteidentität</translation>
    </message>
    <message>
        <source>reserved</source>
        <translation>reserviert</translation>
    </message>
    <message>
        <source>endorsement key</source>
        <translation>Endorsement-Schlüssel</translation>
    </message>
    <message>
        <source>ownership key</source>
        <translation>Eigentümerschlüssel</translation>
    </message>
    <message>
        <source>Nordic identity root CA</source>
        <translation>Nordic-Stamm-CA für Identitäten</translation>
    </message>
    <message>
        <source>Nordic public key</source>
        <translation>öffentlicher Nordic-Schlüssel</translation>
    </message>
    <message>
        <source>type %1</source>
        <translation>Typ %1</translation>
    </message>
</context>
<context>
    <name>Csv</name>
    <message>
        <source>Line %1 is not valid CSV: %2</source>
        <translation>Zeile %1 ist kein gültiges CSV: %2</translation>
    </message>
    <message>
        <source>The file is not UTF-8 text.</source>
        <translation>Die Datei ist kein UTF-8-Text.</translation>
    </message>
    <message>
        <source>more than %1 records</source>
        <translation>mehr als %1 Datensätze</translation>
    </message>
    <message>
        <source>text after a closing quote</source>
        <translation>Text nach einem schließenden Anführungszeichen</translation>
    </message>
    <message>
        <source>a quote inside a field that does not start with one</source>
        <translation>ein Anführungszeichen in einem Feld, das nicht mit einem beginnt</translation>
    </message>
    <message>
        <source>a quoted field is never closed</source>
        <translation>ein Feld in Anführungszeichen wird nie geschlossen</translation>
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
    <name>DeviceImport</name>
    <message>
        <source>Line %1 (%2): %3</source>
        <translation>Zeile %1 (%2): %3</translation>
    </message>
    <message>
        <source>the id must be text.</source>
        <translation>die ID muss Text sein.</translation>
    </message>
    <message>
        <source>auth is sas, x509-self-signed or x509-ca, not &quot;%1&quot;.</source>
        <translation>auth ist sas, x509-self-signed oder x509-ca, nicht „%1“.</translation>
    </message>
    <message>
        <source>status is enabled or disabled, not &quot;%1&quot;.</source>
        <translation>status ist enabled oder disabled, nicht „%1“.</translation>
    </message>
    <message>
        <source>an x509-self-signed device needs a thumbprint of 40 (SHA-1) or 64 (SHA-256) hex digits.</source>
        <translation>ein x509-self-signed-Gerät braucht einen Fingerabdruck aus 40 (SHA-1) oder 64 (SHA-256) Hexziffern.</translation>
    </message>
    <message>
        <source>only an x509-self-signed device has a thumbprint.</source>
        <translation>nur ein x509-self-signed-Gerät hat einen Fingerabdruck.</translation>
    </message>
    <message>
        <source>tags must be a JSON object, e.g. {&quot;site&quot;:&quot;north&quot;}.</source>
        <translation>tags muss ein JSON-Objekt sein, z. B. {&quot;site&quot;:&quot;north&quot;}.</translation>
    </message>
    <message>
        <source>Line %1 (%2): the device appears on line %3 already.</source>
        <translation>Zeile %1 (%2): das Gerät steht schon in Zeile %3.</translation>
    </message>
    <message>
        <source>The file holds no devices.</source>
        <translation>Die Datei enthält keine Geräte.</translation>
    </message>
    <message>
        <source>The header names a column &quot;%1&quot;; the columns are %2.</source>
        <translation>Die Kopfzeile nennt eine Spalte „%1“; die Spalten sind %2.</translation>
    </message>
    <message>
        <source>The header has no id column: the first line names the columns, e.g. id,auth,status,tags.</source>
        <translation>Die Kopfzeile hat keine Spalte id: Die erste Zeile nennt die Spalten, z. B. id,auth,status,tags.</translation>
    </message>
    <message>
        <source>Line %1: %2 fields where the header names %3.</source>
        <translation>Zeile %1: %2 Felder, wo die Kopfzeile %3 nennt.</translation>
    </message>
    <message>
        <source>The file holds more than %1 devices.</source>
        <translation>Die Datei enthält mehr als %1 Geräte.</translation>
    </message>
    <message>
        <source>Line %1 is not a JSON object: %2.</source>
        <translation>Zeile %1 ist kein JSON-Objekt: %2.</translation>
    </message>
    <message>
        <source>another JSON value</source>
        <translation>ein anderer JSON-Wert</translation>
    </message>
    <message>
        <source>Line %1: unknown field &quot;%2&quot;; the fields are %3.</source>
        <translation>Zeile %1: unbekanntes Feld „%2“; die Felder sind %3.</translation>
    </message>
    <message>
        <source>Line %1 (%2): the hub refused it: %3</source>
        <translation>Zeile %1 (%2): der Hub hat es abgelehnt: %3</translation>
    </message>
    <message>
        <source>%1 must be text.</source>
        <translation>%1 muss Text sein.</translation>
    </message>
    <message>
        <source>only a sas device has keys.</source>
        <translation>nur ein SAS-Gerät hat Schlüssel.</translation>
    </message>
    <message>
        <source>primaryKey and secondaryKey go together, each base64 of 16 to 64 bytes.</source>
        <translation>primaryKey und secondaryKey gehören zusammen, jeweils Base64 von 16 bis 64 Bytes.</translation>
    </message>
    <message>
        <source>The hub&apos;s client went away.</source>
        <translation>Der Client des Hubs ist weggefallen.</translation>
    </message>
</context>
<context>
    <name>DeviceTwin</name>
    <message>
        <source>Only &quot;tags&quot; and &quot;desired&quot; can be changed here, not &quot;%1&quot;.</source>
        <translation>Hier lassen sich nur „tags“ und „desired“ ändern, nicht „%1“.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; must be a JSON object.</source>
        <translation>„%1“ muss ein JSON-Objekt sein.</translation>
    </message>
</context>
<context>
    <name>EventHubReader</name>
    <message>
        <source>This is not an Event Hub-compatible connection string: %1</source>
        <translation>Das ist keine Event-Hub-kompatible Verbindungszeichenfolge: %1</translation>
    </message>
    <message>
        <source>it names a HostName, so it is an IoT Hub connection string. The Event Hub-compatible one starts with &quot;Endpoint=sb://&quot; (Azure portal: the hub&apos;s Built-in endpoints).</source>
        <translation>Der Eintrag HostName zeigt, dass es eine IoT Hub-Verbindungszeichenfolge ist. Die Event-Hub-kompatible beginnt mit „Endpoint=sb://“ (Azure-Portal: „Integrierte Endpunkte“ des Hubs).</translation>
    </message>
    <message>
        <source>Endpoint must be sb://HOST/.</source>
        <translation>Endpoint muss sb://HOST/ sein.</translation>
    </message>
    <message>
        <source>SharedAccessKeyName and SharedAccessKey are needed.</source>
        <translation>SharedAccessKeyName und SharedAccessKey werden benötigt.</translation>
    </message>
    <message>
        <source>EntityPath (the Event Hub-compatible name) is missing.</source>
        <translation>EntityPath (der Event-Hub-kompatible Name) fehlt.</translation>
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
    <message>
        <source>The module %1 of device %2 is not connected, so it cannot answer.</source>
        <translation>Das Modul %1 des Geräts %2 ist nicht verbunden und kann daher nicht antworten.</translation>
    </message>
    <message>
        <source>The device %1 has no module %2.</source>
        <translation>Das Gerät %1 hat kein Modul %2.</translation>
    </message>
    <message>
        <source>The device %1 has a module %2 already.</source>
        <translation>Das Gerät %1 hat bereits ein Modul %2.</translation>
    </message>
    <message>
        <source>The module %1 of device %2 did not answer in time.</source>
        <translation>Das Modul %1 des Geräts %2 hat nicht rechtzeitig geantwortet.</translation>
    </message>
    <message>
        <source>The hub has no job %1.</source>
        <translation>Der Hub hat keinen Job %1.</translation>
    </message>
    <message>
        <source>The hub has no configuration %1.</source>
        <translation>Der Hub hat keine Konfiguration %1.</translation>
    </message>
    <message>
        <source>The hub has a job %1 already; choose another id.</source>
        <translation>Der Hub hat schon einen Job %1; wählen Sie eine andere ID.</translation>
    </message>
    <message>
        <source>The hub has a configuration %1 already.</source>
        <translation>Der Hub hat schon eine Konfiguration %1.</translation>
    </message>
</context>
<context>
    <name>HubProfile</name>
    <message>
        <source>A proxy is given as http://HOST:PORT, not &quot;%1&quot;.</source>
        <translation>Ein Proxy wird als http://HOST:PORT angegeben, nicht als „%1“.</translation>
    </message>
    <message>
        <source>The proxy must not hold a user name or password: only proxies without authentication are supported, and a password has no place in settings.</source>
        <translation>Der Proxy darf keinen Benutzernamen und kein Passwort enthalten: Unterstützt werden nur Proxys ohne Anmeldung, und ein Passwort gehört nicht in die Einstellungen.</translation>
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
    <name>MessageMapper</name>
    <message>
        <source>The topic %1 does not fit the pattern %2.</source>
        <translation>Das Topic %1 passt nicht zum Muster %2.</translation>
    </message>
    <message>
        <source>The payload of a message on %1 has no field %2 for the device id.</source>
        <translation>Die Nutzlast einer Nachricht auf %1 hat kein Feld %2 für die Geräte-ID.</translation>
    </message>
    <message>
        <source>A message on %1 names the device &quot;%2&quot;: %3</source>
        <translation>Eine Nachricht auf %1 nennt das Gerät „%2“: %3</translation>
    </message>
    <message>
        <source>A message on %1 names the device &quot;%2&quot;: IoT Hub accepts &quot;+&quot; and &quot;#&quot; in a device ID, but a device cannot send with one over MQTT, where they are topic wildcards.</source>
        <translation>Eine Nachricht auf %1 nennt das Gerät „%2“: IoT Hub akzeptiert „+“ und „#“ in einer Geräte-ID, aber ein Gerät kann damit nicht über MQTT senden, wo sie Platzhalter in Topics sind.</translation>
    </message>
</context>
<context>
    <name>ModemCsr</name>
    <message>
        <source>The modem&apos;s answer to %KEYGEN is not a certificate signing request: %1.</source>
        <translation>Die Antwort des Modems auf %KEYGEN ist keine Zertifikatsanforderung: %1.</translation>
    </message>
    <message>
        <source>the token is not quoted</source>
        <translation>das Token steht nicht in Anführungszeichen</translation>
    </message>
    <message>
        <source>it does not have two parts separated by a dot</source>
        <translation>es besteht nicht aus zwei durch einen Punkt getrennten Teilen</translation>
    </message>
    <message>
        <source>a part is not base64url</source>
        <translation>ein Teil ist kein base64url</translation>
    </message>
    <message>
        <source>the first part is not a PKCS#10 request (DER)</source>
        <translation>der erste Teil ist keine PKCS#10-Anforderung (DER)</translation>
    </message>
    <message>
        <source>The modem&apos;s certificate signing request is not for an EC P-256 key.</source>
        <translation>Die Zertifikatsanforderung des Modems gilt nicht für einen EC-P-256-Schlüssel.</translation>
    </message>
    <message>
        <source>The modem&apos;s certificate signing request is for &quot;%1&quot;, not for &quot;%2&quot;.</source>
        <translation>Die Zertifikatsanforderung des Modems gilt für „%1“, nicht für „%2“.</translation>
    </message>
    <message>
        <source>The modem&apos;s signed statement (COSE) does not carry this request&apos;s SHA-256.</source>
        <translation>Die signierte Bestätigung (COSE) des Modems enthält nicht den SHA-256 dieser Anforderung.</translation>
    </message>
    <message>
        <source>The modem&apos;s certificate signing request does not verify with its own public key; do not sign it.</source>
        <translation>Die Zertifikatsanforderung des Modems lässt sich mit ihrem eigenen öffentlichen Schlüssel nicht prüfen; signieren Sie sie nicht.</translation>
    </message>
</context>
<context>
    <name>ModemError</name>
    <message>
        <source>the modem&apos;s firmware does not support this command (it may be too old: %KEYGEN needs 1.3.0 or newer)</source>
        <translation>die Firmware des Modems unterstützt diesen Befehl nicht (womöglich ist sie zu alt: %KEYGEN erfordert 1.3.0 oder neuer)</translation>
    </message>
    <message>
        <source>the modem reported a memory failure</source>
        <translation>das Modem hat einen Speicherfehler gemeldet</translation>
    </message>
    <message>
        <source>the modem found the parameters incorrect</source>
        <translation>das Modem hält die Parameter für falsch</translation>
    </message>
    <message>
        <source>this command is disabled in the modem&apos;s firmware build</source>
        <translation>dieser Befehl ist im Firmware-Build des Modems deaktiviert</translation>
    </message>
    <message>
        <source>the modem reported a system error</source>
        <translation>das Modem hat einen Systemfehler gemeldet</translation>
    </message>
    <message>
        <source>nothing is stored there</source>
        <translation>dort ist nichts gespeichert</translation>
    </message>
    <message>
        <source>the modem does not allow it (the security tag is reserved for the modem, or this kind of credential cannot be read back)</source>
        <translation>das Modem erlaubt es nicht (das Sicherheits-Tag ist für das Modem reserviert, oder diese Art von Anmeldedaten lässt sich nicht zurücklesen)</translation>
    </message>
    <message>
        <source>the modem&apos;s credential storage is full; delete credentials that are no longer needed</source>
        <translation>der Speicher des Modems für Anmeldedaten ist voll; löschen Sie nicht mehr benötigte Anmeldedaten</translation>
    </message>
    <message>
        <source>the modem is online; credentials can only be changed in offline mode (AT+CFUN=4)</source>
        <translation>das Modem ist online; Anmeldedaten lassen sich nur im Offline-Modus ändern (AT+CFUN=4)</translation>
    </message>
    <message>
        <source>it exists already and cannot be replaced (a key the modem generated itself must be deleted first)</source>
        <translation>der Eintrag existiert bereits und kann nicht ersetzt werden (ein vom Modem selbst erzeugter Schlüssel muss zuerst gelöscht werden)</translation>
    </message>
    <message>
        <source>the modem refused the authentication</source>
        <translation>das Modem hat die Authentifizierung abgelehnt</translation>
    </message>
    <message>
        <source>the modem could not generate the key</source>
        <translation>das Modem konnte den Schlüssel nicht erzeugen</translation>
    </message>
    <message>
        <source>the modem found the content invalid</source>
        <translation>das Modem hält den Inhalt für ungültig</translation>
    </message>
    <message>
        <source>a power-off warning is active (the supply voltage is too low); power the modem properly and try again</source>
        <translation>eine Abschaltwarnung ist aktiv (die Versorgungsspannung ist zu niedrig); versorgen Sie das Modem ausreichend mit Strom und versuchen Sie es erneut</translation>
    </message>
    <message>
        <source>the modem could not build the claim token</source>
        <translation>das Modem konnte das Claim-Token nicht erstellen</translation>
    </message>
    <message>
        <source>the modem answered +CME ERROR: %1</source>
        <translation>das Modem antwortete mit +CME ERROR: %1</translation>
    </message>
    <message>
        <source>%1 failed: the modem answered &quot;%2&quot;.</source>
        <translation>%1 ist fehlgeschlagen: Das Modem antwortete „%2“.</translation>
    </message>
    <message>
        <source>%1 failed: %2.</source>
        <translation>%1 ist fehlgeschlagen: %2.</translation>
    </message>
    <message>
        <source>%1 failed: the modem refused the command without giving a reason.</source>
        <translation>%1 ist fehlgeschlagen: Das Modem hat den Befehl ohne Angabe von Gründen abgelehnt.</translation>
    </message>
    <message>
        <source>%1 succeeded.</source>
        <translation>%1 war erfolgreich.</translation>
    </message>
</context>
<context>
    <name>ModemKeyLedger</name>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>the folder cannot be made</source>
        <translation>der Ordner kann nicht angelegt werden</translation>
    </message>
    <message>
        <source>another program holds its lock</source>
        <translation>ein anderes Programm hält die Sperre</translation>
    </message>
</context>
<context>
    <name>ModemStatus</name>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>not registered and not searching</source>
        <translation>nicht registriert und keine Netzsuche</translation>
    </message>
    <message>
        <source>registered in its home network</source>
        <translation>im Heimatnetz registriert</translation>
    </message>
    <message>
        <source>searching for a network</source>
        <translation>sucht ein Netz</translation>
    </message>
    <message>
        <source>registration denied</source>
        <translation>Registrierung abgelehnt</translation>
    </message>
    <message>
        <source>registered, roaming</source>
        <translation>registriert, Roaming</translation>
    </message>
    <message>
        <source>not registered: the SIM failed</source>
        <translation>nicht registriert: SIM-Fehler</translation>
    </message>
    <message>
        <source>registration unknown</source>
        <translation>Registrierung unbekannt</translation>
    </message>
    <message>
        <source>the network does not know the SIM (IMSI unknown)</source>
        <translation>das Netz kennt die SIM nicht (IMSI unbekannt)</translation>
    </message>
    <message>
        <source>illegal device: the network refuses this SIM</source>
        <translation>unzulässiges Gerät: Das Netz lehnt diese SIM ab</translation>
    </message>
    <message>
        <source>the network refuses this IMEI</source>
        <translation>das Netz lehnt diese IMEI ab</translation>
    </message>
    <message>
        <source>illegal device: the network refuses this modem</source>
        <translation>unzulässiges Gerät: Das Netz lehnt dieses Modem ab</translation>
    </message>
    <message>
        <source>the SIM&apos;s subscription has no LTE data service</source>
        <translation>der Vertrag der SIM umfasst keinen LTE-Datendienst</translation>
    </message>
    <message>
        <source>the SIM&apos;s subscription has no LTE service</source>
        <translation>der Vertrag der SIM umfasst keinen LTE-Dienst</translation>
    </message>
    <message>
        <source>the SIM may not use this operator</source>
        <translation>die SIM darf diesen Netzbetreiber nicht nutzen</translation>
    </message>
    <message>
        <source>the SIM may not use this area</source>
        <translation>die SIM darf in diesem Gebiet nicht genutzt werden</translation>
    </message>
    <message>
        <source>roaming is not allowed here</source>
        <translation>Roaming ist hier nicht erlaubt</translation>
    </message>
    <message>
        <source>the SIM may not use LTE on this operator</source>
        <translation>die SIM darf LTE bei diesem Netzbetreiber nicht nutzen</translation>
    </message>
    <message>
        <source>no suitable cell in this area</source>
        <translation>keine geeignete Zelle in diesem Gebiet</translation>
    </message>
    <message>
        <source>network failure</source>
        <translation>Netzausfall</translation>
    </message>
    <message>
        <source>the network is congested</source>
        <translation>das Netz ist überlastet</translation>
    </message>
    <message>
        <source>cause %1</source>
        <translation>Ursache %1</translation>
    </message>
    <message>
        <source>excellent</source>
        <translation>ausgezeichnet</translation>
    </message>
    <message>
        <source>good</source>
        <translation>gut</translation>
    </message>
    <message>
        <source>fair</source>
        <translation>mittel</translation>
    </message>
    <message>
        <source>weak</source>
        <translation>schwach</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>device type %1</source>
        <translation>Gerätetyp %1</translation>
    </message>
</context>
<context>
    <name>Onboarder::AddDpsDialog</name>
    <message>
        <source>Add Device Provisioning Service</source>
        <translation>Device Provisioning Service hinzufügen</translation>
    </message>
    <message>
        <source>Paste the connection string of one of the DPS&apos;s shared access policies (Azure portal: the DPS → Shared access policies, e.g. provisioningserviceowner) and its ID scope (its Overview page). The connection string is kept in the system keychain only.</source>
        <translation>Fügen Sie die Verbindungszeichenfolge einer der freigegebenen Zugriffsrichtlinien des DPS ein (Azure-Portal: der DPS → Freigegebene Zugriffsrichtlinien, z. B. provisioningserviceowner) und seinen ID scope (seine Übersichtsseite). Die Verbindungszeichenfolge wird nur im Schlüsselbund des Systems aufbewahrt.</translation>
    </message>
    <message>
        <source>Azure&apos;s hosts</source>
        <translation>Azures Hosts</translation>
    </message>
    <message>
        <source>default</source>
        <translation>Standard</translation>
    </message>
    <message>
        <source>system CAs only</source>
        <translation>nur System-CAs</translation>
    </message>
    <message>
        <source>Saving the key in the system keychain…</source>
        <translation>Der Schlüssel wird im Schlüsselbund des Systems gespeichert…</translation>
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
        <source>&amp;ID scope:</source>
        <translation>&amp;ID scope:</translation>
    </message>
    <message>
        <source>A sandbox or private endpoint</source>
        <translation>Eine Sandbox oder ein privater Endpunkt</translation>
    </message>
    <message>
        <source>&amp;Address:</source>
        <translation>&amp;Adresse:</translation>
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
        <source>C&amp;A file:</source>
        <translation>C&amp;A-Datei:</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Hinzufügen</translation>
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
    <message>
        <source>5671 (Azure)</source>
        <translation>5671 (Azure)</translation>
    </message>
    <message>
        <source>AM&amp;QP port:</source>
        <translation>AM&amp;QP-Port:</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Netzwerk</translation>
    </message>
    <message>
        <source>None: connect directly</source>
        <translation>Keiner: direkt verbinden</translation>
    </message>
    <message>
        <source>An HTTP proxy that tunnels with CONNECT, as http://HOST:PORT. REST, MQTT and AMQP all go through it.</source>
        <translation>Ein HTTP-Proxy, der mit CONNECT tunnelt, als http://HOST:PORT. REST, MQTT und AMQP laufen alle über ihn.</translation>
    </message>
    <message>
        <source>HTTP &amp;proxy:</source>
        <translation>HTTP-&amp;Proxy:</translation>
    </message>
    <message>
        <source>MQTT and AMQP over &amp;WebSockets (port 443)</source>
        <translation>MQTT und AMQP über &amp;WebSockets (Port 443)</translation>
    </message>
    <message>
        <source>For networks that let only HTTPS out: every connection to this hub then uses port 443 (the REST port of a custom endpoint).</source>
        <translation>Für Netze, die nur HTTPS hinauslassen: Jede Verbindung zu diesem Hub nutzt dann Port 443 (bei einem eigenen Endpunkt dessen REST-Port).</translation>
    </message>
</context>
<context>
    <name>Onboarder::AmqpClient</name>
    <message>
        <source>%1 did not answer within %2 seconds.</source>
        <translation>%1 hat nicht innerhalb von %2 Sekunden geantwortet.</translation>
    </message>
    <message>
        <source> (through the proxy %1:%2)</source>
        <translation> (über den Proxy %1:%2)</translation>
    </message>
    <message>
        <source>The CA file %1 holds no PEM certificate.</source>
        <translation>Die CA-Datei %1 enthält kein PEM-Zertifikat.</translation>
    </message>
    <message>
        <source>Cannot reach %1: %2</source>
        <translation>%1 ist nicht erreichbar: %2</translation>
    </message>
    <message>
        <source>The certificate of %1 was refused: %2</source>
        <translation>Das Zertifikat von %1 wurde abgelehnt: %2</translation>
    </message>
    <message>
        <source>%1 refused the credentials: %2</source>
        <translation>%1 hat die Anmeldedaten abgelehnt: %2</translation>
    </message>
    <message>
        <source>%1 closed the connection.</source>
        <translation>%1 hat die Verbindung geschlossen.</translation>
    </message>
    <message>
        <source>The connection to %1 ended: %2</source>
        <translation>Die Verbindung zu %1 wurde beendet: %2</translation>
    </message>
    <message>
        <source>The connection to %1 was closed.</source>
        <translation>Die Verbindung zu %1 wurde geschlossen.</translation>
    </message>
    <message>
        <source>Not connected to %1.</source>
        <translation>Nicht mit %1 verbunden.</translation>
    </message>
    <message>
        <source>%1 refused the token (%2): %3</source>
        <translation>%1 hat das Token abgelehnt (%2): %3</translation>
    </message>
    <message>
        <source>%1 closed %2: %3 %4</source>
        <translation>%1 hat %2 geschlossen: %3 %4</translation>
    </message>
    <message>
        <source>%1 accepted the WebSocket but not AMQP on it (sub-protocol %2).</source>
        <translation>%1 hat den WebSocket angenommen, aber kein AMQP darauf (Subprotokoll %2).</translation>
    </message>
</context>
<context>
    <name>Onboarder::AtChannel</name>
    <message>
        <source>The serial port was closed.</source>
        <translation>Der serielle Port wurde geschlossen.</translation>
    </message>
    <message>
        <source>The connection to the modem was closed.</source>
        <translation>Die Verbindung zum Modem wurde geschlossen.</translation>
    </message>
    <message>
        <source>The command is %1 bytes long; the modem takes at most %2. The credential is too large for it.</source>
        <translation>Der Befehl ist %1 Bytes lang; das Modem nimmt höchstens %2 an. Die Anmeldedaten sind dafür zu groß.</translation>
    </message>
    <message>
        <source>Could not send to the modem: %1</source>
        <translation>Senden an das Modem nicht möglich: %1</translation>
    </message>
    <message>
        <source>The modem did not answer %1 within %2 s. Is this the modem&apos;s AT port, and does its firmware run an AT host (such as Nordic&apos;s at_client sample)?</source>
        <translation>Das Modem hat %1 nicht innerhalb von %2 s beantwortet. Ist das der AT-Port des Modems, und läuft in seiner Firmware ein AT-Host (etwa das Beispiel at_client von Nordic)?</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Abgebrochen.</translation>
    </message>
</context>
<context>
    <name>Onboarder::AtTerminalView</name>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Copy All</source>
        <translation>Alles kopieren</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Modem output</source>
        <translation>Ausgabe des Modems</translation>
    </message>
    <message>
        <source>Answers and unsolicited lines appear here. Lines from the modem start with &quot;&lt;&quot;, unsolicited ones with &quot;~&quot;.</source>
        <translation>Antworten und unaufgeforderte Zeilen erscheinen hier. Zeilen vom Modem beginnen mit „&lt;“, unaufgeforderte mit „~“.</translation>
    </message>
    <message>
        <source>AT command, e.g. AT+CEREG?</source>
        <translation>AT-Befehl, z. B. AT+CEREG?</translation>
    </message>
    <message>
        <source>AT command</source>
        <translation>AT-Befehl</translation>
    </message>
    <message>
        <source>! Not sent: %1</source>
        <translation>! Nicht gesendet: %1</translation>
    </message>
    <message>
        <source>%1

Send %2?</source>
        <translation>%1

%2 senden?</translation>
    </message>
    <message>
        <source>AT Terminal</source>
        <translation>AT-Terminal</translation>
    </message>
    <message>
        <source>! %1</source>
        <translation>! %1</translation>
    </message>
</context>
<context>
    <name>Onboarder::AzureFlashJob</name>
    <message>
        <source>The secondary security tag must differ from the primary one; leave it out to keep both root certificates in the primary tag.</source>
        <translation>Das sekundäre Sicherheits-Tag muss sich vom primären unterscheiden; lassen Sie es weg, um beide Stammzertifikate im primären Tag zu behalten.</translation>
    </message>
    <message>
        <source>The root CA certificates Onboarder ships are missing.</source>
        <translation>Die von Onboarder mitgelieferten CA-Stammzertifikate fehlen.</translation>
    </message>
    <message>
        <source>The private key does not belong to the device certificate (%1).</source>
        <translation>Der private Schlüssel gehört nicht zum Gerätezertifikat (%1).</translation>
    </message>
    <message>
        <source>device certificate (%1)</source>
        <translation>Gerätezertifikat (%1)</translation>
    </message>
    <message>
        <source>device private key</source>
        <translation>Privatschlüssel des Geräts</translation>
    </message>
    <message>
        <source>Reading what the modem stores</source>
        <translation>Lesen der im Modem gespeicherten Anmeldedaten</translation>
    </message>
    <message>
        <source>Switching the modem to offline mode</source>
        <translation>Umschalten des Modems in den Offline-Modus</translation>
    </message>
    <message>
        <source>%1 is in security tag %2 already</source>
        <translation>%1 ist bereits in Sicherheits-Tag %2</translation>
    </message>
    <message>
        <source>Writing %1 to security tag %2</source>
        <translation>Schreiben von %1 in Sicherheits-Tag %2</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Abgebrochen.</translation>
    </message>
    <message>
        <source>Restoring functional mode %1</source>
        <translation>Wiederherstellen von Funktionsmodus %1</translation>
    </message>
    <message>
        <source>A key kept in the modem is known by its hash alone; no key bytes go with it.</source>
        <translation>Ein im Modem verwahrter Schlüssel ist nur über seinen Hash bekannt; es werden keine Schlüsselbytes übertragen.</translation>
    </message>
    <message>
        <source>device private key (kept in the modem)</source>
        <translation>privater Geräteschlüssel (im Modem verwahrt)</translation>
    </message>
    <message>
        <source>The modem&apos;s own private key in security tag %1 is %2; the certificate cannot be used without it. Provision again to have the modem make a new key.</source>
        <translation>Der eigene private Schlüssel des Modems im Sicherheits-Tag %1 ist %2; ohne ihn kann das Zertifikat nicht verwendet werden. Provisionieren Sie erneut, damit das Modem einen neuen Schlüssel erzeugt.</translation>
    </message>
    <message>
        <source>gone</source>
        <translation>nicht mehr vorhanden</translation>
    </message>
    <message>
        <source>not the one the certificate was made for</source>
        <translation>nicht derjenige, für den das Zertifikat ausgestellt wurde</translation>
    </message>
    <message>
        <source>The root CA certificate %1 expired on %2: a modem that trusts it cannot check the hub&apos;s certificate. Flash Azure&apos;s current roots (a newer Onboarder ships them), or allow expired roots to flash it anyway.</source>
        <translation>Das Stamm-CA-Zertifikat %1 ist am %2 abgelaufen: Ein Modem, das ihm vertraut, kann das Zertifikat des Hubs nicht prüfen. Flashen Sie die aktuellen Stammzertifikate von Azure (ein neueres Onboarder liefert sie mit), oder lassen Sie abgelaufene Stammzertifikate zu, um es trotzdem zu flashen.</translation>
    </message>
    <message>
        <source>%1 expired on %2.</source>
        <translation>%1 ist am %2 abgelaufen.</translation>
    </message>
    <message numerus="yes">
        <source>%1 expires on %2, in less than %n day(s).</source>
        <translation>
            <numerusform>%1 läuft am %2 ab, in weniger als %n Tag.</numerusform>
            <numerusform>%1 läuft am %2 ab, in weniger als %n Tagen.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Onboarder::CertificateAuthoritiesView</name>
    <message>
        <source>Verification Certificate…</source>
        <translation>Verifizierungszertifikat…</translation>
    </message>
    <message>
        <source>New Group with This CA…</source>
        <translation>Neue Gruppe mit dieser CA…</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Subjekt</translation>
    </message>
    <message>
        <source>SHA-256 thumbprint</source>
        <translation>SHA-256-Fingerabdruck</translation>
    </message>
    <message>
        <source>Expires</source>
        <translation>Läuft ab</translation>
    </message>
    <message>
        <source>Certificate authorities</source>
        <translation>Zertifizierungsstellen</translation>
    </message>
    <message>
        <source>Prove to IoT Hub or DPS that this computer holds the CA&apos;s key: a certificate for the verification code the portal shows, signed by the CA.</source>
        <translation>Gegenüber IoT Hub oder DPS nachweisen, dass dieser Computer den Schlüssel der CA besitzt: ein Zertifikat für den Verifizierungscode, den das Portal anzeigt, signiert von der CA.</translation>
    </message>
    <message>
        <source>(certificate unreadable)</source>
        <translation>(Zertifikat nicht lesbar)</translation>
    </message>
    <message>
        <source>No CA is kept here. Import one with onboarder-cli cred import-ca NAME --cert FILE --key FILE.</source>
        <translation>Hier wird keine CA aufbewahrt. Importieren Sie eine mit onboarder-cli cred import-ca NAME --cert DATEI --key DATEI.</translation>
    </message>
    <message>
        <source>Create Verification Certificate…</source>
        <translation>Verifizierungszertifikat erstellen…</translation>
    </message>
    <message>
        <source>New Enrollment Group with This CA…</source>
        <translation>Neue Registrierungsgruppe mit dieser CA…</translation>
    </message>
    <message>
        <source>Verification Certificate</source>
        <translation>Verifizierungszertifikat</translation>
    </message>
    <message>
        <source>The verification code the portal shows for CA &quot;%1&quot; (IoT Hub or DPS → Certificates → Generate verification code):</source>
        <translation>Der Verifizierungscode, den das Portal für die CA „%1“ anzeigt (IoT Hub oder DPS → Zertifikate → Verifizierungscode generieren):</translation>
    </message>
    <message>
        <source>Save Verification Certificate</source>
        <translation>Verifizierungszertifikat speichern</translation>
    </message>
    <message>
        <source>PEM certificate (*.pem *.cer)</source>
        <translation>PEM-Zertifikat (*.pem *.cer)</translation>
    </message>
    <message>
        <source>%1 exists already; nothing was written. Choose another file.</source>
        <translation>%1 existiert bereits; es wurde nichts geschrieben. Wählen Sie eine andere Datei.</translation>
    </message>
    <message>
        <source>Reading CA &quot;%1&quot; from the keychain…</source>
        <translation>CA „%1“ wird aus dem Schlüsselbund gelesen…</translation>
    </message>
    <message>
        <source>%1 could not be written: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Wrote the verification certificate for code %1, signed by CA &quot;%2&quot;, to %3. Upload it in the portal where the code was shown.</source>
        <translation>Das Verifizierungszertifikat für Code %1, signiert von CA „%2“, wurde nach %3 geschrieben. Laden Sie es im Portal dort hoch, wo der Code angezeigt wurde.</translation>
    </message>
</context>
<context>
    <name>Onboarder::CloudToDeviceClient</name>
    <message>
        <source>The acknowledgement must be none, positive, negative or full, not &quot;%1&quot;.</source>
        <translation>Die Bestätigung muss none, positive, negative oder full sein, nicht „%1“.</translation>
    </message>
    <message>
        <source>The expiry must be between 1 second and 48 hours (IoT Hub keeps a message at most that long).</source>
        <translation>Die Ablaufzeit muss zwischen 1 Sekunde und 48 Stunden liegen (länger bewahrt IoT Hub eine Nachricht nicht auf).</translation>
    </message>
    <message>
        <source>A property needs a name.</source>
        <translation>Eine Eigenschaft braucht einen Namen.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a name IoT Hub keeps for itself (iothub-…, $…); choose another.</source>
        <translation>„%1“ ist ein Name, den IoT Hub für sich reserviert (iothub-…, $…); wählen Sie einen anderen.</translation>
    </message>
    <message>
        <source>The property &quot;%1&quot; holds a control character, which IoT Hub refuses.</source>
        <translation>Die Eigenschaft „%1“ enthält ein Steuerzeichen, das IoT Hub ablehnt.</translation>
    </message>
    <message>
        <source>The message is %1 bytes with its properties; IoT Hub takes at most %2 (64 KB) for a cloud-to-device message.</source>
        <translation>Die Nachricht ist mit ihren Eigenschaften %1 Byte groß; IoT Hub nimmt für eine Cloud-zu-Gerät-Nachricht höchstens %2 (64 KB) an.</translation>
    </message>
    <message>
        <source>A message id has at most 128 characters.</source>
        <translation>Eine Nachrichten-ID hat höchstens 128 Zeichen.</translation>
    </message>
    <message>
        <source>Sending to devices needs the connection string of one of the hub&apos;s shared access policies (with ServiceConnect).</source>
        <translation>Zum Senden an Geräte wird die Verbindungszeichenfolge einer der freigegebenen Zugriffsrichtlinien des Hubs benötigt (mit ServiceConnect).</translation>
    </message>
    <message>
        <source>The connection was closed.</source>
        <translation>Die Verbindung wurde geschlossen.</translation>
    </message>
    <message>
        <source>Hub %1 refused: %2</source>
        <translation>Hub %1 hat abgelehnt: %2</translation>
    </message>
    <message>
        <source>Hub %1 closed the link: %2 %3</source>
        <translation>Hub %1 hat den Link geschlossen: %2 %3</translation>
    </message>
    <message>
        <source>The connection to the hub was closed.</source>
        <translation>Die Verbindung zum Hub wurde geschlossen.</translation>
    </message>
    <message>
        <source>Not connected to a hub.</source>
        <translation>Nicht mit einem Hub verbunden.</translation>
    </message>
    <message>
        <source>Hub %1 did not take the message for %2: %3 %4</source>
        <translation>Hub %1 hat die Nachricht für %2 nicht angenommen: %3 %4</translation>
    </message>
    <message>
        <source>Device %1 is not registered in hub %2.</source>
        <translation>Das Gerät %1 ist in Hub %2 nicht registriert.</translation>
    </message>
    <message>
        <source>Device %1 already has 50 messages waiting, the most IoT Hub keeps for a device. Wait until it takes them, or purge its queue.</source>
        <translation>Für das Gerät %1 warten bereits 50 Nachrichten, das Maximum, das IoT Hub für ein Gerät vorhält. Warten Sie, bis es sie abholt, oder leeren Sie seine Warteschlange.</translation>
    </message>
    <message>
        <source>Hub %1 refused the message as too large: %2</source>
        <translation>Hub %1 hat die Nachricht als zu groß abgelehnt: %2</translation>
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
        <source>device &quot;%1&quot;</source>
        <translation>Gerät „%1“</translation>
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
    <message>
        <source>Device &quot;%1&quot; of hub &quot;%2&quot; has no X.509 credential on this computer; make or import one first.</source>
        <translation>Gerät „%1“ von Hub „%2“ hat auf diesem Computer keine X.509-Anmeldedaten; erstellen oder importieren Sie zuerst welche.</translation>
    </message>
    <message>
        <source>Device &quot;%1&quot; of hub &quot;%2&quot; has an X.509 credential already (%3, made %4). Replacing it deletes its private key, so it must be asked for explicitly.</source>
        <translation>Gerät „%1“ von Hub „%2“ hat bereits X.509-Anmeldedaten (%3, erstellt %4). Beim Ersetzen wird ihr privater Schlüssel gelöscht, daher muss es ausdrücklich verlangt werden.</translation>
    </message>
    <message>
        <source>A CA named &quot;%1&quot; was imported already. Replacing it deletes its private key, so it must be asked for explicitly.</source>
        <translation>Eine CA namens „%1“ wurde bereits importiert. Beim Ersetzen wird ihr privater Schlüssel gelöscht, daher muss es ausdrücklich verlangt werden.</translation>
    </message>
    <message>
        <source>No CA named &quot;%1&quot; was imported on this computer.</source>
        <translation>Auf diesem Computer wurde keine CA namens „%1“ importiert.</translation>
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
    <name>Onboarder::DeviceLink</name>
    <message>
        <source>The device %1 is not connected to the hub.</source>
        <translation>Das Gerät %1 ist nicht mit dem Hub verbunden.</translation>
    </message>
    <message>
        <source>the hub %1 (as device %2)</source>
        <translation>dem Hub %1 (als Gerät %2)</translation>
    </message>
    <message>
        <source>The X.509 certificate or key kept for the device %1 cannot be read.</source>
        <translation>Das für das Gerät %1 gespeicherte X.509-Zertifikat oder sein Schlüssel kann nicht gelesen werden.</translation>
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
    <name>Onboarder::DeviceMessagesTab</name>
    <message>
        <source>Add Property</source>
        <translation>Eigenschaft hinzufügen</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <source>Purge Queue…</source>
        <translation>Warteschlange leeren…</translation>
    </message>
    <message>
        <source>The message&apos;s payload, e.g. {&quot;command&quot;: &quot;reboot&quot;}; sent as UTF-8 text.</source>
        <translation>Die Nutzdaten der Nachricht, z. B. {&quot;command&quot;: &quot;reboot&quot;}; als UTF-8-Text gesendet.</translation>
    </message>
    <message>
        <source>Payload</source>
        <translation>Nutzdaten</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Application properties</source>
        <translation>Anwendungseigenschaften</translation>
    </message>
    <message>
        <source>Made up when empty (a new UUID)</source>
        <translation>Wird erzeugt, wenn leer (eine neue UUID)</translation>
    </message>
    <message>
        <source>Message id</source>
        <translation>Nachrichten-ID</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>The hub&apos;s default (1 hour)</source>
        <translation>Standard des Hubs (1 Stunde)</translation>
    </message>
    <message>
        <source>How long the hub keeps the message for a device that is not connected (at most 48 hours).</source>
        <translation>Wie lange der Hub die Nachricht für ein nicht verbundenes Gerät aufbewahrt (höchstens 48 Stunden).</translation>
    </message>
    <message>
        <source>Expiry</source>
        <translation>Ablauf</translation>
    </message>
    <message>
        <source>Full: whether delivered or not</source>
        <translation>Vollständig: ob zugestellt oder nicht</translation>
    </message>
    <message>
        <source>Positive: when delivered</source>
        <translation>Positiv: wenn zugestellt</translation>
    </message>
    <message>
        <source>Negative: when not delivered</source>
        <translation>Negativ: wenn nicht zugestellt</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <source>The feedback the hub gives about the message: Success when the device took it, Expired, Rejected or delivery count exceeded when it did not.</source>
        <translation>Das Feedback, das der Hub zur Nachricht gibt: Erfolg, wenn das Gerät sie angenommen hat; abgelaufen, abgelehnt oder Zustellversuche überschritten, wenn nicht.</translation>
    </message>
    <message>
        <source>Feedback</source>
        <translation>Feedback</translation>
    </message>
    <message>
        <source>Stop sending. A message the hub already took cannot be taken back.</source>
        <translation>Senden abbrechen. Eine Nachricht, die der Hub schon angenommen hat, lässt sich nicht zurückholen.</translation>
    </message>
    <message>
        <source>Queue depth</source>
        <translation>Warteschlangenlänge</translation>
    </message>
    <message>
        <source>Drop every message waiting for the device; it will never get them.</source>
        <translation>Alle Nachrichten verwerfen, die auf das Gerät warten; es erhält sie nie.</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Gesendet</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Sent messages</source>
        <translation>Gesendete Nachrichten</translation>
    </message>
    <message>
        <source>Positive</source>
        <translation>Positiv</translation>
    </message>
    <message>
        <source>Message id:</source>
        <translation>Nachrichten-ID:</translation>
    </message>
    <message>
        <source>Expiry:</source>
        <translation>Ablauf:</translation>
    </message>
    <message>
        <source>Feedback:</source>
        <translation>Feedback:</translation>
    </message>
    <message>
        <source>New Message</source>
        <translation>Neue Nachricht</translation>
    </message>
    <message>
        <source>Payload:</source>
        <translation>Nutzdaten:</translation>
    </message>
    <message>
        <source>Application properties:</source>
        <translation>Anwendungseigenschaften:</translation>
    </message>
    <message>
        <source>Sent from Here</source>
        <translation>Von hier gesendet</translation>
    </message>
    <message>
        <source>Waiting for the device: …</source>
        <translation>Warten auf das Gerät: …</translation>
    </message>
    <message numerus="yes">
        <source>Waiting for the device: %n message(s)</source>
        <translation>
            <numerusform>Warten auf das Gerät: %n Nachricht</numerusform>
            <numerusform>Warten auf das Gerät: %n Nachrichten</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 of %2 bytes</source>
        <translation>%1 von %2 Bytes</translation>
    </message>
    <message>
        <source>No hub is current: choose one on the Hubs page.</source>
        <translation>Es gibt keinen aktuellen Hub: Wählen Sie auf der Seite „Hubs“ einen aus.</translation>
    </message>
    <message>
        <source>Full</source>
        <translation>Vollständig</translation>
    </message>
    <message>
        <source>Negative</source>
        <translation>Negativ</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>Wird gesendet…</translation>
    </message>
    <message>
        <source>Sending message %1 to %2…</source>
        <translation>Nachricht %1 wird an %2 gesendet…</translation>
    </message>
    <message>
        <source>The connection to the hub ended: %1</source>
        <translation>Die Verbindung zum Hub wurde beendet: %1</translation>
    </message>
    <message>
        <source>Not sent</source>
        <translation>Nicht gesendet</translation>
    </message>
    <message>
        <source>Message %1 was not sent.</source>
        <translation>Nachricht %1 wurde nicht gesendet.</translation>
    </message>
    <message>
        <source>Taken by the hub</source>
        <translation>Vom Hub angenommen</translation>
    </message>
    <message>
        <source>No feedback was asked for.</source>
        <translation>Es wurde kein Feedback angefordert.</translation>
    </message>
    <message>
        <source>Feedback comes only if it is not delivered.</source>
        <translation>Feedback kommt nur, wenn sie nicht zugestellt wird.</translation>
    </message>
    <message>
        <source>Waiting for the hub&apos;s feedback.</source>
        <translation>Warten auf das Feedback des Hubs.</translation>
    </message>
    <message>
        <source>Hub %1 took message %2 for %3.</source>
        <translation>Hub %1 hat Nachricht %2 für %3 angenommen.</translation>
    </message>
    <message>
        <source>Sent message %1 to &quot;%2&quot;.</source>
        <translation>Nachricht %1 an „%2“ gesendet.</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>The hub may have taken it before it was cancelled.</source>
        <translation>Der Hub hat sie möglicherweise vor dem Abbruch angenommen.</translation>
    </message>
    <message>
        <source>It was not sent.</source>
        <translation>Sie wurde nicht gesendet.</translation>
    </message>
    <message>
        <source>Stopped waiting for the hub; message %1 may still reach the device.</source>
        <translation>Warten auf den Hub beendet; Nachricht %1 kann das Gerät trotzdem noch erreichen.</translation>
    </message>
    <message>
        <source>Success</source>
        <translation>Erfolg</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Abgelaufen</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>Abgelehnt</translation>
    </message>
    <message>
        <source>Delivery count exceeded</source>
        <translation>Zustellversuche überschritten</translation>
    </message>
    <message>
        <source>Purged</source>
        <translation>Verworfen</translation>
    </message>
    <message>
        <source>%1 at %2</source>
        <translation>%1 um %2</translation>
    </message>
    <message>
        <source>Message %1 reached %2.</source>
        <translation>Nachricht %1 hat %2 erreicht.</translation>
    </message>
    <message>
        <source>Message %1 expired before %2 took it.</source>
        <translation>Nachricht %1 ist abgelaufen, bevor %2 sie angenommen hat.</translation>
    </message>
    <message>
        <source>%2 rejected message %1.</source>
        <translation>%2 hat Nachricht %1 abgelehnt.</translation>
    </message>
    <message>
        <source>Message %1 was offered to %2 too often without being completed.</source>
        <translation>Nachricht %1 wurde %2 zu oft angeboten, ohne abgeschlossen zu werden.</translation>
    </message>
    <message>
        <source>Feedback for message %1: %2</source>
        <translation>Feedback für Nachricht %1: %2</translation>
    </message>
    <message>
        <source>Purge Queue</source>
        <translation>Warteschlange leeren</translation>
    </message>
    <message numerus="yes">
        <source>Drop the %n message(s) waiting for &quot;%1&quot;?</source>
        <translation>
            <numerusform>Die %n Nachricht verwerfen, die auf „%1“ wartet?</numerusform>
            <numerusform>Die %n Nachrichten verwerfen, die auf „%1“ warten?</numerusform>
        </translation>
    </message>
    <message>
        <source>Drop every message waiting for &quot;%1&quot;?</source>
        <translation>Alle Nachrichten verwerfen, die auf „%1“ warten?</translation>
    </message>
    <message>
        <source>The device will never get them, and this cannot be undone.</source>
        <translation>Das Gerät erhält sie nie, und das lässt sich nicht rückgängig machen.</translation>
    </message>
    <message>
        <source>Purge</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Purging the queue of %1…</source>
        <translation>Die Warteschlange von %1 wird geleert…</translation>
    </message>
    <message>
        <source>The queue was not purged: %1</source>
        <translation>Die Warteschlange wurde nicht geleert: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s) for %1 purged.</source>
        <translation>
            <numerusform>%n Nachricht für %1 verworfen.</numerusform>
            <numerusform>%n Nachrichten für %1 verworfen.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Onboarder::DeviceModulesTab</name>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>Add Module</source>
        <translation>Modul hinzufügen</translation>
    </message>
    <message>
        <source>Delete Module…</source>
        <translation>Modul löschen…</translation>
    </message>
    <message>
        <source>Hand Over Connection String…</source>
        <translation>Verbindungszeichenfolge übergeben…</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Neu laden</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Module</source>
        <translation>Modul</translation>
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
        <source>Managed By</source>
        <translation>Verwaltet von</translation>
    </message>
    <message>
        <source>New module id, e.g. sensor-reader</source>
        <translation>Neue Modul-ID, z. B. sensor-reader</translation>
    </message>
    <message>
        <source>Adds a module identity with keys made by the hub</source>
        <translation>Fügt eine Modulidentität mit vom Hub erzeugten Schlüsseln hinzu</translation>
    </message>
    <message>
        <source>Deletes the selected module with its keys and twin</source>
        <translation>Löscht das gewählte Modul mit seinen Schlüsseln und seinem Twin</translation>
    </message>
    <message>
        <source>Hands the selected module&apos;s connection string over: expiring, to the clipboard, OpenPGP or a QR code</source>
        <translation>Übergibt die Verbindungszeichenfolge des gewählten Moduls: ablaufend, über die Zwischenablage, OpenPGP oder einen QR-Code</translation>
    </message>
    <message>
        <source>Stop waiting for the hub. A change it already made stays made.</source>
        <translation>Nicht mehr auf den Hub warten. Eine Änderung, die er schon vorgenommen hat, bleibt bestehen.</translation>
    </message>
    <message>
        <source>Select a module to see its twin.</source>
        <translation>Wählen Sie ein Modul, um seinen Twin zu sehen.</translation>
    </message>
    <message>
        <source>Module twin</source>
        <translation>Modul-Twin</translation>
    </message>
    <message>
        <source>A module has credentials and a twin of its own; it connects as {device}/{module}, only while its device is enabled.</source>
        <translation>Ein Modul hat eigene Anmeldedaten und einen eigenen Twin; es verbindet sich als {Gerät}/{Modul}, nur solange sein Gerät aktiviert ist.</translation>
    </message>
    <message>
        <source>Stopped waiting for the hub.</source>
        <translation>Warten auf den Hub beendet.</translation>
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
        <source>Shared access key</source>
        <translation>Zugriffsschlüssel</translation>
    </message>
    <message>
        <source>X.509 self-signed</source>
        <translation>X.509 selbstsigniert</translation>
    </message>
    <message>
        <source>X.509 CA-signed</source>
        <translation>X.509 von einer CA signiert</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keine</translation>
    </message>
    <message>
        <source>This device has no modules.</source>
        <translation>Dieses Gerät hat keine Module.</translation>
    </message>
    <message>
        <source>Added module &quot;%1&quot; to &quot;%2&quot;.</source>
        <translation>Modul „%1“ zu „%2“ hinzugefügt.</translation>
    </message>
    <message>
        <source>Delete Module</source>
        <translation>Modul löschen</translation>
    </message>
    <message>
        <source>Delete module &quot;%1&quot; of &quot;%2&quot;? Its keys and twin go with it; a program that connects as this module is refused from then on.</source>
        <translation>Modul „%1“ von „%2“ löschen? Seine Schlüssel und sein Twin werden mitgelöscht; ein Programm, das sich als dieses Modul verbindet, wird danach abgewiesen.</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <source>Deleted module &quot;%1&quot; of &quot;%2&quot;.</source>
        <translation>Modul „%1“ von „%2“ gelöscht.</translation>
    </message>
    <message>
        <source>Module &quot;%1&quot; authenticates with a certificate: its connection string holds no secret to hand over.</source>
        <translation>Modul „%1“ authentifiziert sich mit einem Zertifikat: Seine Verbindungszeichenfolge enthält kein Geheimnis, das zu übergeben wäre.</translation>
    </message>
    <message>
        <source>the connection string of module &quot;%1&quot; of &quot;%2&quot;</source>
        <translation>die Verbindungszeichenfolge des Moduls „%1“ von „%2“</translation>
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
    <message>
        <source>Telemetry</source>
        <translation>Telemetrie</translation>
    </message>
    <message>
        <source>Messages to Device</source>
        <translation>Nachrichten an das Gerät</translation>
    </message>
    <message>
        <source>What the device sends, live, while this tab is shown</source>
        <translation>Was das Gerät sendet, live, solange dieser Reiter angezeigt wird</translation>
    </message>
    <message>
        <source>Cloud-to-device messages: send, see their feedback, purge the queue</source>
        <translation>Cloud-zu-Gerät-Nachrichten: senden, ihr Feedback sehen, die Warteschlange leeren</translation>
    </message>
    <message>
        <source>New Primary Key…</source>
        <translation>Neuer primärer Schlüssel…</translation>
    </message>
    <message>
        <source>New Secondary Key…</source>
        <translation>Neuer sekundärer Schlüssel…</translation>
    </message>
    <message>
        <source>Swap Keys…</source>
        <translation>Schlüssel tauschen…</translation>
    </message>
    <message>
        <source>Swap Keys</source>
        <translation>Schlüssel tauschen</translation>
    </message>
    <message>
        <source>New Key</source>
        <translation>Neuer Schlüssel</translation>
    </message>
    <message>
        <source>Swap the keys of &quot;%1&quot;?</source>
        <translation>Die Schlüssel von „%1“ tauschen?</translation>
    </message>
    <message>
        <source>Change the key of &quot;%1&quot;?</source>
        <translation>Den Schlüssel von „%1“ ändern?</translation>
    </message>
    <message>
        <source>Swap</source>
        <translation>Tauschen</translation>
    </message>
    <message>
        <source>Make New Key</source>
        <translation>Neuen Schlüssel erzeugen</translation>
    </message>
    <message>
        <source>Swapped the keys of &quot;%1&quot;.</source>
        <translation>Die Schlüssel von „%1“ wurden getauscht.</translation>
    </message>
    <message>
        <source>Made a new primary key for &quot;%1&quot;.</source>
        <translation>Neuer primärer Schlüssel für „%1“ erzeugt.</translation>
    </message>
    <message>
        <source>Made a new secondary key for &quot;%1&quot;.</source>
        <translation>Neuer sekundärer Schlüssel für „%1“ erzeugt.</translation>
    </message>
    <message>
        <source>New Certificate…</source>
        <translation>Neues Zertifikat…</translation>
    </message>
    <message>
        <source>Register the device&apos;s new certificate; the one it has now stays valid as secondary until the next change</source>
        <translation>Das neue Zertifikat des Geräts registrieren; das jetzige bleibt bis zum nächsten Wechsel als sekundäres gültig</translation>
    </message>
    <message>
        <source>The Device&apos;s New Certificate</source>
        <translation>Das neue Zertifikat des Geräts</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer);;All files (*)</source>
        <translation>Zertifikate (*.pem *.crt *.cer);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>New Certificate</source>
        <translation>Neues Zertifikat</translation>
    </message>
    <message>
        <source>Register the new certificate of &quot;%1&quot;?</source>
        <translation>Das neue Zertifikat von „%1“ registrieren?</translation>
    </message>
    <message>
        <source>Register</source>
        <translation>Registrieren</translation>
    </message>
    <message>
        <source>Registered the new certificate of &quot;%1&quot;; the one before stays valid as secondary.</source>
        <translation>Das neue Zertifikat von „%1“ ist registriert; das bisherige bleibt als sekundäres gültig.</translation>
    </message>
    <message>
        <source>Modules</source>
        <translation>Module</translation>
    </message>
    <message>
        <source>The device&apos;s module identities, their twins and keys</source>
        <translation>Die Modulidentitäten des Geräts, ihre Twins und Schlüssel</translation>
    </message>
</context>
<context>
    <name>Onboarder::DeviceTelemetryTab</name>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Pausieren</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Connection state</source>
        <translation>Verbindungsstatus</translation>
    </message>
    <message>
        <source>Stop updating the list; the count goes on.</source>
        <translation>Die Liste nicht mehr aktualisieren; die Zählung läuft weiter.</translation>
    </message>
    <message>
        <source>Empty the list (reading goes on).</source>
        <translation>Die Liste leeren (das Lesen läuft weiter).</translation>
    </message>
    <message>
        <source>Connection state not known yet</source>
        <translation>Verbindungsstatus noch unbekannt</translation>
    </message>
    <message>
        <source>Not reading: the tab reads while it is shown.</source>
        <translation>Liest nicht: Der Reiter liest, solange er angezeigt wird.</translation>
    </message>
    <message>
        <source>Reading what %1 sends to hub %2, from now on.</source>
        <translation>Liest, was %1 an Hub %2 sendet, ab jetzt.</translation>
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
    <message>
        <source>Import…</source>
        <translation>Importieren…</translation>
    </message>
    <message>
        <source>Import Devices</source>
        <translation>Geräte importieren</translation>
    </message>
    <message>
        <source>Device lists (*.csv *.jsonl *.ndjson);;All files (*)</source>
        <translation>Gerätelisten (*.csv *.jsonl *.ndjson);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Registering the devices of %1…</source>
        <translation>Die Geräte aus %1 werden registriert…</translation>
    </message>
    <message>
        <source>%1 of %2 devices sent…</source>
        <translation>%1 von %2 Geräten gesendet…</translation>
    </message>
    <message>
        <source>Created %1 devices; %2 existed already; %3 not imported.</source>
        <translation>%1 Geräte angelegt; %2 waren schon vorhanden; %3 nicht importiert.</translation>
    </message>
    <message>
        <source>Their reasons are in %1.</source>
        <translation>Die Gründe stehen in %1.</translation>
    </message>
    <message>
        <source>The report %1 could not be written.</source>
        <translation>Der Bericht %1 konnte nicht geschrieben werden.</translation>
    </message>
    <message>
        <source>Stopped after %1 of %2 rows%3; import the same file again to finish.</source>
        <translation>Nach %1 von %2 Zeilen angehalten%3; importieren Sie dieselbe Datei erneut, um abzuschließen.</translation>
    </message>
</context>
<context>
    <name>Onboarder::DpsClient</name>
    <message>
        <source>DPS %1 refused the request as invalid: %2</source>
        <translation>DPS %1 hat die Anfrage als ungültig abgelehnt: %2</translation>
    </message>
    <message>
        <source>DPS %1 refused the credentials: check that its connection string is current and that its policy has the rights this needs (enrollment read/write). %2</source>
        <translation>DPS %1 hat die Anmeldedaten abgelehnt: Prüfen Sie, ob seine Verbindungszeichenfolge aktuell ist und ihre Richtlinie die nötigen Rechte hat (enrollment read/write). %2</translation>
    </message>
    <message>
        <source>DPS %1 has no %2.</source>
        <translation>In DPS %1 nicht gefunden: %2.</translation>
    </message>
    <message>
        <source>DPS %1: %2 conflicts with what it has: %3</source>
        <translation>DPS %1: %2 steht im Konflikt mit dem vorhandenen Stand: %3</translation>
    </message>
    <message>
        <source>%1 was changed by someone else since it was read. Read it again and retry.</source>
        <translation>%1 wurde seit dem Lesen von jemand anderem geändert. Erneut lesen und noch einmal versuchen.</translation>
    </message>
    <message>
        <source>DPS %1 is throttling requests and still was after several tries; wait a minute.</source>
        <translation>DPS %1 drosselt Anfragen und tat es auch nach mehreren Versuchen noch; warten Sie eine Minute.</translation>
    </message>
    <message>
        <source>DPS %1 answered HTTP %2: %3</source>
        <translation>DPS %1 hat mit HTTP %2 geantwortet: %3</translation>
    </message>
    <message>
        <source>enrollment</source>
        <translation>Registrierungseintrag</translation>
    </message>
    <message>
        <source>enrollment group</source>
        <translation>Registrierungsgruppe</translation>
    </message>
    <message>
        <source>registration</source>
        <translation>Registrierung</translation>
    </message>
</context>
<context>
    <name>Onboarder::DpsPage</name>
    <message>
        <source>X.509 certificate</source>
        <translation>X.509-Zertifikat</translation>
    </message>
    <message>
        <source>Symmetric key</source>
        <translation>Symmetrischer Schlüssel</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <source>Test Registration</source>
        <translation>Testregistrierung</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Provisioning</source>
        <translation>Bereitstellung</translation>
    </message>
    <message>
        <source>Device Provisioning Services and their enrollments. A test registration registers the selected device from this computer exactly as the device will, before it ships.</source>
        <translation>Device Provisioning Services und ihre Registrierungseinträge. Eine Testregistrierung registriert das ausgewählte Gerät von diesem Computer aus genau so, wie es das Gerät tun wird – bevor es ausgeliefert wird.</translation>
    </message>
    <message>
        <source>Device Provisioning Service</source>
        <translation>Device Provisioning Service</translation>
    </message>
    <message>
        <source>Register the selected enrollment from this computer with its key or the certificate kept here</source>
        <translation>Den ausgewählten Registrierungseintrag von diesem Computer aus mit seinem Schlüssel oder dem hier aufbewahrten Zertifikat registrieren</translation>
    </message>
    <message>
        <source>Registration ID</source>
        <translation>Registrierungs-ID</translation>
    </message>
    <message>
        <source>Attestation</source>
        <translation>Nachweis</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Assigned hub</source>
        <translation>Zugewiesener Hub</translation>
    </message>
    <message>
        <source>Enrollments</source>
        <translation>Registrierungseinträge</translation>
    </message>
    <message>
        <source>DPS:</source>
        <translation>DPS:</translation>
    </message>
    <message>
        <source>Reading the enrollments…</source>
        <translation>Die Registrierungseinträge werden gelesen…</translation>
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
        <source>Enrollments: %1.</source>
        <translation>Registrierungseinträge: %1.</translation>
    </message>
    <message>
        <source>The first %1 enrollments; onboarder-cli dps enrollment list lists them all.</source>
        <translation>Die ersten %1 Registrierungseinträge; onboarder-cli dps enrollment list listet alle.</translation>
    </message>
    <message>
        <source>Delete Enrollment</source>
        <translation>Registrierungseintrag löschen</translation>
    </message>
    <message>
        <source>Delete the enrollment &quot;%1&quot; from DPS %2?

The device can then no longer register. A device already assigned to a hub stays there.</source>
        <translation>Den Registrierungseintrag „%1“ aus DPS %2 löschen?

Das Gerät kann sich dann nicht mehr registrieren. Ein bereits einem Hub zugewiesenes Gerät bleibt dort.</translation>
    </message>
    <message>
        <source>Deleting %1…</source>
        <translation>%1 wird gelöscht…</translation>
    </message>
    <message>
        <source>Reading the enrollment of %1…</source>
        <translation>Der Registrierungseintrag von %1 wird gelesen…</translation>
    </message>
    <message>
        <source>%1 registered: assigned to hub %2 as device %3.</source>
        <translation>%1 registriert: Hub %2 als Gerät %3 zugewiesen.</translation>
    </message>
    <message>
        <source>Registering %1…</source>
        <translation>%1 wird registriert…</translation>
    </message>
    <message>
        <source>Add DPS…</source>
        <translation>DPS hinzufügen…</translation>
    </message>
    <message>
        <source>No DPS yet: add one with Add DPS…, or onboarder-cli dps add NAME --id-scope SCOPE &lt; connection-string-file.</source>
        <translation>Noch kein DPS: Fügen Sie einen mit „DPS hinzufügen…“ hinzu, oder mit onboarder-cli dps add NAME --id-scope SCOPE &lt; connection-string-file.</translation>
    </message>
    <message>
        <source>Added DPS &quot;%1&quot;; its key is in the system keychain.</source>
        <translation>DPS „%1“ hinzugefügt; sein Schlüssel liegt im Schlüsselbund des Systems.</translation>
    </message>
    <message>
        <source>Group ID</source>
        <translation>Gruppen-ID</translation>
    </message>
    <message>
        <source>Enrollment groups</source>
        <translation>Registrierungsgruppen</translation>
    </message>
    <message>
        <source>New Enrollment…</source>
        <translation>Neuer Registrierungseintrag…</translation>
    </message>
    <message>
        <source>New Group…</source>
        <translation>Neue Gruppe…</translation>
    </message>
    <message>
        <source>Individual Enrollments</source>
        <translation>Einzelregistrierungen</translation>
    </message>
    <message>
        <source>Enrollment Groups</source>
        <translation>Registrierungsgruppen</translation>
    </message>
    <message>
        <source>Certificate Authorities</source>
        <translation>Zertifizierungsstellen</translation>
    </message>
    <message>
        <source>Reading the enrollment groups…</source>
        <translation>Die Registrierungsgruppen werden gelesen…</translation>
    </message>
    <message>
        <source>Groups: %1.</source>
        <translation>Gruppen: %1.</translation>
    </message>
    <message>
        <source>X.509 CA %1…</source>
        <translation>X.509-CA %1…</translation>
    </message>
    <message>
        <source>Creating %1 &quot;%2&quot;…</source>
        <translation>%1 „%2“ wird erstellt…</translation>
    </message>
    <message>
        <source>DPS %1 has a %2 &quot;%3&quot; already; nothing was changed.</source>
        <translation>%2 „%3“ existiert in DPS %1 bereits; es wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Created %1 &quot;%2&quot;.</source>
        <translation>%1 „%2“ erstellt.</translation>
    </message>
    <message>
        <source>Delete the enrollment group &quot;%1&quot; from DPS %2?

Its devices can then no longer register. Devices already assigned to a hub stay there.</source>
        <translation>Die Registrierungsgruppe „%1“ aus DPS %2 löschen?

Ihre Geräte können sich dann nicht mehr registrieren. Bereits einem Hub zugewiesene Geräte bleiben dort.</translation>
    </message>
    <message>
        <source>Delete Enrollment Group</source>
        <translation>Registrierungsgruppe löschen</translation>
    </message>
    <message>
        <source>Deleted the %1 &quot;%2&quot;.</source>
        <translation>%1 „%2“ gelöscht.</translation>
    </message>
    <message>
        <source>No certificate and key are kept here for &quot;%1&quot;: only the device can register with its certificate.</source>
        <translation>Für „%1“ werden hier weder Zertifikat noch Schlüssel aufbewahrt: Nur das Gerät selbst kann sich mit seinem Zertifikat registrieren.</translation>
    </message>
    <message>
        <source>Reading the key of %1 from the keychain…</source>
        <translation>Der Schlüssel von %1 wird aus dem Schlüsselbund gelesen…</translation>
    </message>
</context>
<context>
    <name>Onboarder::DpsRegistration</name>
    <message>
        <source>DPS %1 did not finish registering %2 within %3 s.</source>
        <translation>DPS %1 hat die Registrierung von %2 nicht innerhalb von %3 s abgeschlossen.</translation>
    </message>
    <message>
        <source>The enrollment group&apos;s key is not base64.</source>
        <translation>Der Schlüssel der Registrierungsgruppe ist kein Base64.</translation>
    </message>
    <message>
        <source>Connected to %1; asking to register %2…</source>
        <translation>Mit %1 verbunden; Registrierung von %2 wird angefragt…</translation>
    </message>
    <message>
        <source>DPS %1 refused the connection of %2: it is not enrolled, its enrollment is disabled, or its key or certificate is not the enrolled one (%3).</source>
        <translation>DPS %1 hat die Verbindung von %2 abgelehnt: Es ist nicht eingetragen, sein Registrierungseintrag ist deaktiviert, oder sein Schlüssel oder Zertifikat entspricht nicht dem eingetragenen (%3).</translation>
    </message>
    <message>
        <source>Connecting to %1:%2 as %3…</source>
        <translation>Verbindung zu %1:%2 als %3 wird aufgebaut…</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Abgebrochen.</translation>
    </message>
    <message>
        <source>DPS %1 accepted the registration of %2 but named no operation to follow.</source>
        <translation>DPS %1 hat die Registrierung von %2 angenommen, aber keine Operation zum Nachverfolgen genannt.</translation>
    </message>
    <message>
        <source>DPS is assigning %1; asking again in %2 s…</source>
        <translation>DPS weist %1 zu; erneute Anfrage in %2 s…</translation>
    </message>
    <message>
        <source>DPS asks to wait %1 s…</source>
        <translation>DPS bittet, %1 s zu warten…</translation>
    </message>
    <message>
        <source>DPS %1 refused to register %2: it is not enrolled, or its key or certificate is not the enrolled one (%3).</source>
        <translation>DPS %1 hat die Registrierung von %2 abgelehnt: Es ist nicht eingetragen, oder sein Schlüssel oder Zertifikat entspricht nicht dem eingetragenen (%3).</translation>
    </message>
    <message>
        <source>DPS %1 refused to register %2 (HTTP %3): %4</source>
        <translation>DPS %1 hat die Registrierung von %2 abgelehnt (HTTP %3): %4</translation>
    </message>
    <message>
        <source>DPS %1 did not register %2: its enrollment is disabled.</source>
        <translation>DPS %1 hat %2 nicht registriert: Sein Registrierungseintrag ist deaktiviert.</translation>
    </message>
    <message>
        <source>DPS %1 did not assign %2 (status %3): %4</source>
        <translation>DPS %1 hat %2 nicht zugewiesen (Status %3): %4</translation>
    </message>
</context>
<context>
    <name>Onboarder::DpsStore</name>
    <message>
        <source>The %1 port must be between 1 and 65535 (0 for the default); %2 is not.</source>
        <translation>Der %1-Port muss zwischen 1 und 65535 liegen (0 für den Standardwert); %2 ist ungültig.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot name a DPS here: use 1 to 64 ASCII letters, digits and . _ -, starting with a letter or digit.</source>
        <translation>„%1“ taugt hier nicht als Name eines DPS: Verwenden Sie 1 bis 64 ASCII-Buchstaben, Ziffern und . _ -, beginnend mit einem Buchstaben oder einer Ziffer.</translation>
    </message>
    <message>
        <source>A DPS named &quot;%1&quot; exists already. Choose another name or remove that one first.</source>
        <translation>Ein DPS namens „%1“ existiert bereits. Wählen Sie einen anderen Namen oder entfernen Sie zuerst diesen DPS.</translation>
    </message>
    <message>
        <source>This is a %1 connection string. A DPS needs the connection string of one of its shared access policies (HostName, SharedAccessKeyName and SharedAccessKey), e.g. provisioningserviceowner&apos;s from the Azure portal: the DPS → Shared access policies.</source>
        <translation>Das ist eine Verbindungszeichenfolge der Art „%1“. Ein DPS braucht die Verbindungszeichenfolge einer seiner freigegebenen Zugriffsrichtlinien (HostName, SharedAccessKeyName und SharedAccessKey), z. B. die von provisioningserviceowner aus dem Azure-Portal: der DPS → Freigegebene Zugriffsrichtlinien.</translation>
    </message>
    <message>
        <source>This is an IoT hub&apos;s connection string (%1, policy %2), not a DPS&apos;s. A DPS&apos;s names a host such as NAME.azure-devices-provisioning.net and a policy such as provisioningserviceowner (Azure portal: the DPS → Shared access policies). Add a hub with onboarder-cli hub add.</source>
        <translation>Das ist die Verbindungszeichenfolge eines IoT Hubs (%1, Richtlinie %2), nicht die eines DPS. Die eines DPS nennt einen Host wie NAME.azure-devices-provisioning.net und eine Richtlinie wie provisioningserviceowner (Azure-Portal: der DPS → Freigegebene Zugriffsrichtlinien). Einen Hub fügen Sie mit onboarder-cli hub add hinzu.</translation>
    </message>
    <message>
        <source>The ID scope is missing: devices register with it. It is on the DPS&apos;s Overview page in the Azure portal, e.g. 0ne00ABCDEF.</source>
        <translation>Der ID scope fehlt: Geräte registrieren sich mit ihm. Er steht im Azure-Portal auf der Seite „Übersicht“ des DPS, z. B. 0ne00ABCDEF.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not an ID scope: it is letters and digits, e.g. 0ne00ABCDEF (the DPS&apos;s Overview page in the Azure portal).</source>
        <translation>„%1“ ist kein ID scope: Ein ID scope besteht aus Buchstaben und Ziffern, z. B. 0ne00ABCDEF (Seite „Übersicht“ des DPS im Azure-Portal).</translation>
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
        <source>The settings file %1 could not be written, so the DPS was not added.</source>
        <translation>Die Einstellungsdatei %1 konnte nicht geschrieben werden; der DPS wurde daher nicht hinzugefügt.</translation>
    </message>
    <message>
        <source>There is no DPS named &quot;%1&quot;.</source>
        <translation>Es gibt keinen DPS namens „%1“.</translation>
    </message>
    <message>
        <source>The DPS &quot;%1&quot; was kept because its key could not be removed from the keychain: %2</source>
        <translation>Der DPS „%1“ wurde behalten, weil sein Schlüssel nicht aus dem Schlüsselbund entfernt werden konnte: %2</translation>
    </message>
    <message>
        <source>The DPS&apos;s key was removed from the keychain, but the settings file %1 could not be written, so the DPS is still listed.</source>
        <translation>Der Schlüssel des DPS wurde aus dem Schlüsselbund entfernt, aber die Einstellungsdatei %1 konnte nicht geschrieben werden; der DPS steht daher noch in der Liste.</translation>
    </message>
    <message>
        <source>The keychain has no connection string for DPS &quot;%1&quot;. Remove it and add it again.</source>
        <translation>Der Schlüsselbund enthält keine Verbindungszeichenfolge für den DPS „%1“. Entfernen Sie den DPS und fügen Sie ihn erneut hinzu.</translation>
    </message>
</context>
<context>
    <name>Onboarder::Duration</name>
    <message>
        <source>&quot;%1&quot; is not a length of time: give a whole number with s, m, h or d, e.g. 90m, 12h, 7d or 1d12h.</source>
        <translation>„%1“ ist keine Zeitdauer: Geben Sie eine ganze Zahl mit s, m, h oder d an, z. B. 90m, 12h, 7d oder 1d12h.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is longer than the %2 allowed.</source>
        <translation>„%1“ ist länger als die erlaubten %2.</translation>
    </message>
    <message>
        <source>%1 d</source>
        <translation>%1 T</translation>
    </message>
    <message>
        <source>%1 h</source>
        <translation>%1 Std.</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 Min.</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
</context>
<context>
    <name>Onboarder::EventHubDialog</name>
    <message>
        <source>Forget</source>
        <translation>Vergessen</translation>
    </message>
    <message>
        <source>Event Hub-Compatible Endpoint — %1</source>
        <translation>Event-Hub-kompatibler Endpunkt — %1</translation>
    </message>
    <message>
        <source>Telemetry of hub &quot;%1&quot; is read with the Event Hub-compatible connection string kept in the system keychain. Paste another one to replace it, or forget it to follow the hub&apos;s redirect again.</source>
        <translation>Die Telemetrie von Hub „%1“ wird mit der im Schlüsselbund aufbewahrten Event-Hub-kompatiblen Verbindungszeichenfolge gelesen. Eine andere einfügen, um sie zu ersetzen, oder sie vergessen, um wieder der Umleitung des Hubs zu folgen.</translation>
    </message>
    <message>
        <source>Telemetry of hub &quot;%1&quot; is read through the hub&apos;s redirect, with its own key. Where that is not allowed, paste the hub&apos;s Event Hub-compatible connection string (Azure portal: the hub → Built-in endpoints); it is kept in the system keychain only.</source>
        <translation>Die Telemetrie von Hub „%1“ wird über die Umleitung des Hubs mit dessen eigenem Schlüssel gelesen. Wo das nicht erlaubt ist, die Event-Hub-kompatible Verbindungszeichenfolge des Hubs einfügen (Azure-Portal: der Hub → Integrierte Endpunkte); sie wird nur im Schlüsselbund des Systems aufbewahrt.</translation>
    </message>
    <message>
        <source>Event Hub-compatible connection string</source>
        <translation>Event-Hub-kompatible Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>&amp;Connection string:</source>
        <translation>&amp;Verbindungszeichenfolge:</translation>
    </message>
    <message>
        <source>Remove the Event Hub-compatible connection string from the keychain</source>
        <translation>Die Event-Hub-kompatible Verbindungszeichenfolge aus dem Schlüsselbund entfernen</translation>
    </message>
    <message>
        <source>Saving the connection string in the system keychain…</source>
        <translation>Die Verbindungszeichenfolge wird im Schlüsselbund des Systems gespeichert…</translation>
    </message>
    <message>
        <source>Removing the connection string from the system keychain…</source>
        <translation>Die Verbindungszeichenfolge wird aus dem Schlüsselbund des Systems entfernt…</translation>
    </message>
</context>
<context>
    <name>Onboarder::EventHubReader</name>
    <message>
        <source>Reading what hub %1 receives needs the connection string of one of its shared access policies, not a device&apos;s.</source>
        <translation>Um zu lesen, was Hub %1 empfängt, wird die Verbindungszeichenfolge einer seiner freigegebenen Zugriffsrichtlinien benötigt, nicht die eines Geräts.</translation>
    </message>
    <message>
        <source>The connection ended.</source>
        <translation>Die Verbindung wurde beendet.</translation>
    </message>
    <message>
        <source>Hub %1 did not point to its Event Hub-compatible endpoint. Give its Event Hub-compatible connection string instead (Azure portal: the hub&apos;s Built-in endpoints).</source>
        <translation>Hub %1 hat nicht auf seinen Event-Hub-kompatiblen Endpunkt verwiesen. Geben Sie stattdessen seine Event-Hub-kompatible Verbindungszeichenfolge an (Azure-Portal: „Integrierte Endpunkte“ des Hubs).</translation>
    </message>
    <message>
        <source>The Event Hub-compatible endpoint %1 answered %2: %3</source>
        <translation>Der Event-Hub-kompatible Endpunkt %1 hat mit %2 geantwortet: %3</translation>
    </message>
    <message>
        <source>The Event Hub-compatible endpoint %1 lists no partitions.</source>
        <translation>Der Event-Hub-kompatible Endpunkt %1 nennt keine Partitionen.</translation>
    </message>
    <message>
        <source>Hub %1 refused to hand out its telemetry: %2 %3</source>
        <translation>Hub %1 hat die Herausgabe seiner Telemetrie verweigert: %2 %3</translation>
    </message>
    <message>
        <source>Hub %1 redirected to an address Onboarder does not understand: %2</source>
        <translation>Hub %1 hat auf eine Adresse umgeleitet, die Onboarder nicht versteht: %2</translation>
    </message>
    <message>
        <source>The Event Hub-compatible endpoint has no consumer group &quot;%1&quot; (%2). Create it in the hub&apos;s Built-in endpoints, or use $Default.</source>
        <translation>Der Event-Hub-kompatible Endpunkt hat keine Consumergruppe „%1“ (%2). Legen Sie sie unter „Integrierte Endpunkte“ des Hubs an oder verwenden Sie $Default.</translation>
    </message>
    <message>
        <source>Partition %1 was closed: %2 %3</source>
        <translation>Partition %1 wurde geschlossen: %2 %3</translation>
    </message>
    <message>
        <source>shared access policy %1</source>
        <translation>Richtlinie für gemeinsamen Zugriff %1</translation>
    </message>
    <message>
        <source>Event Hub-compatible connection string</source>
        <translation>Event-Hub-kompatible Verbindungszeichenfolge</translation>
    </message>
    <message>
        <source>Hub %1 refused the key (%2): %3</source>
        <translation>Hub %1 hat den Schlüssel abgelehnt (%2): %3</translation>
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
    <message>
        <source>Valid for</source>
        <translation>Gültig für</translation>
    </message>
    <message>
        <source>1 hour</source>
        <translation>1 Stunde</translation>
    </message>
    <message>
        <source>1 day</source>
        <translation>1 Tag</translation>
    </message>
    <message>
        <source>7 days</source>
        <translation>7 Tage</translation>
    </message>
    <message>
        <source>30 days</source>
        <translation>30 Tage</translation>
    </message>
    <message>
        <source>No expiry (contains the key)</source>
        <translation>Ohne Ablauf (enthält den Schlüssel)</translation>
    </message>
    <message>
        <source>Valid for:</source>
        <translation>Gültig für:</translation>
    </message>
    <message>
        <source>Without the key: a token of the device that stops working %1 after the export. Whoever gets it cannot make another.</source>
        <translation>Ohne den Schlüssel: ein Token des Geräts, das %1 nach dem Export nicht mehr gilt. Wer es erhält, kann kein weiteres erstellen.</translation>
    </message>
    <message>
        <source>With the device&apos;s key: it works until the key is regenerated. Prefer an expiry when handing it to someone.</source>
        <translation>Mit dem Schlüssel des Geräts: Sie gilt, bis der Schlüssel neu erzeugt wird. Geben Sie sie besser mit Ablauf weiter.</translation>
    </message>
    <message>
        <source> It stops working at %1.</source>
        <translation> Sie gilt nur bis %1.</translation>
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
    <message>
        <source>AMQP</source>
        <translation>AMQP</translation>
    </message>
    <message>
        <source>The hub &quot;%1&quot; was kept because its Event Hub-compatible connection string could not be removed from the keychain: %2</source>
        <translation>Der Hub „%1“ wurde behalten, weil seine Event-Hub-kompatible Verbindungszeichenfolge nicht aus dem Schlüsselbund entfernt werden konnte: %2</translation>
    </message>
    <message>
        <source>The settings file %1 could not be written.</source>
        <translation>Die Einstellungsdatei %1 konnte nicht geschrieben werden.</translation>
    </message>
    <message>
        <source>The keychain has no Event Hub-compatible connection string for hub &quot;%1&quot; any more. Give it again with onboarder-cli hub event-hub %1, or forget it with --clear.</source>
        <translation>Der Schlüsselbund hat keine Event-Hub-kompatible Verbindungszeichenfolge für Hub „%1“ mehr. Sie mit onboarder-cli hub event-hub %1 erneut angeben oder mit --clear vergessen.</translation>
    </message>
    <message>
        <source>This is a Device Provisioning Service&apos;s connection string (%1, policy %2), not a hub&apos;s. Add it with onboarder-cli dps add; a hub&apos;s names a host such as NAME.azure-devices.net and a policy such as iothubowner.</source>
        <translation>Das ist die Verbindungszeichenfolge eines Device Provisioning Service (%1, Richtlinie %2), nicht die eines Hubs. Fügen Sie sie mit onboarder-cli dps add hinzu; die eines Hubs nennt einen Host wie NAME.azure-devices.net und eine Richtlinie wie iothubowner.</translation>
    </message>
</context>
<context>
    <name>Onboarder::HubTelemetryMonitor</name>
    <message>
        <source>Not reading what the hub receives.</source>
        <translation>Was der Hub empfängt, wird nicht gelesen.</translation>
    </message>
    <message>
        <source>Connecting to the hub to read what it receives…</source>
        <translation>Verbindung zum Hub wird aufgebaut, um zu lesen, was er empfängt…</translation>
    </message>
    <message>
        <source>Reading what the hub receives.</source>
        <translation>Was der Hub empfängt, wird gelesen.</translation>
    </message>
    <message>
        <source>Reading what the hub receives failed.</source>
        <translation>Lesen, was der Hub empfängt, ist fehlgeschlagen.</translation>
    </message>
    <message>
        <source>Hub %1 refused to let Onboarder read what it receives with the key of its policy &quot;%2&quot;: %3</source>
        <translation>Hub %1 hat es abgelehnt, Onboarder mit dem Schlüssel seiner Richtlinie „%2“ lesen zu lassen, was er empfängt: %3</translation>
    </message>
    <message>
        <source>Reading what hub %1 receives: %2</source>
        <translation>Lesen, was Hub %1 empfängt: %2</translation>
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
    <message>
        <source>Event Hub…</source>
        <translation>Event Hub…</translation>
    </message>
    <message>
        <source>Read the hub&apos;s telemetry with its Event Hub-compatible connection string instead of through the hub&apos;s redirect</source>
        <translation>Die Telemetrie des Hubs mit seiner Event-Hub-kompatiblen Verbindungszeichenfolge lesen statt über die Umleitung des Hubs</translation>
    </message>
    <message>
        <source> · telemetry through its Event Hub-compatible connection string, in the keychain as &quot;%1&quot;</source>
        <translation> · Telemetrie über seine Event-Hub-kompatible Verbindungszeichenfolge, im Schlüsselbund als „%1“</translation>
    </message>
    <message>
        <source>Hub &quot;%1&quot;: telemetry is read with its Event Hub-compatible connection string, which is in the system keychain.</source>
        <translation>Hub „%1“: Telemetrie wird mit seiner Event-Hub-kompatiblen Verbindungszeichenfolge gelesen, die im Schlüsselbund des Systems liegt.</translation>
    </message>
    <message>
        <source>Hub &quot;%1&quot;: telemetry is read through the hub&apos;s redirect again.</source>
        <translation>Hub „%1“: Telemetrie wird wieder über die Umleitung des Hubs gelesen.</translation>
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
    <message>
        <source>The job ID is empty.</source>
        <translation>Die Job-ID ist leer.</translation>
    </message>
    <message>
        <source>The job ID is %1 characters long; at most %2 are allowed.</source>
        <translation>Die Job-ID ist %1 Zeichen lang; höchstens %2 sind erlaubt.</translation>
    </message>
    <message>
        <source>The job ID contains %1 at position %2. Only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ are allowed.</source>
        <translation>Die Job-ID enthält %1 an Position %2. Nur ASCII-Buchstaben, Ziffern und - : . + % _ # * ? ! ( ) , = @ ; $ sind erlaubt.</translation>
    </message>
</context>
<context>
    <name>Onboarder::KeyRotation</name>
    <message>
        <source>The device &quot;%1&quot; authenticates with %2, not with SAS keys: it has no keys to change.</source>
        <translation>Das Gerät „%1“ meldet sich mit %2 an, nicht mit SAS-Schlüsseln: Es hat keine Schlüssel, die sich ändern ließen.</translation>
    </message>
    <message>
        <source>A new primary key for &quot;%1&quot;: whatever uses the old primary key (the device, its connection strings, tokens signed with it) stops working.</source>
        <translation>Ein neuer primärer Schlüssel für „%1“: Alles, was den alten primären Schlüssel verwendet (das Gerät, seine Verbindungszeichenfolgen, damit signierte Token), funktioniert nicht mehr.</translation>
    </message>
    <message>
        <source>A new secondary key for &quot;%1&quot;: whatever uses the old secondary key stops working.</source>
        <translation>Ein neuer sekundärer Schlüssel für „%1“: Alles, was den alten sekundären Schlüssel verwendet, funktioniert nicht mehr.</translation>
    </message>
    <message>
        <source>The primary and secondary keys of &quot;%1&quot; change places: whatever names a key as primary or secondary now gets the other one.</source>
        <translation>Der primäre und der sekundäre Schlüssel von „%1“ tauschen die Plätze: Wer einen Schlüssel als primär oder sekundär anfordert, erhält nun den anderen.</translation>
    </message>
    <message>
        <source>The device is not connected now.</source>
        <translation>Das Gerät ist gerade nicht verbunden.</translation>
    </message>
    <message>
        <source>The device is connected now: the hub closes its connection, and it must reconnect with a credential that still holds.</source>
        <translation>Das Gerät ist gerade verbunden: Der Hub schließt seine Verbindung, und es muss sich mit noch gültigen Anmeldedaten neu verbinden.</translation>
    </message>
    <message>
        <source>The device &quot;%1&quot; authenticates with %2: only a self-signed X.509 device is registered by its certificate&apos;s thumbprint.</source>
        <translation>Das Gerät „%1“ meldet sich mit %2 an: Nur ein selbstsigniertes X.509-Gerät ist über den Fingerabdruck seines Zertifikats registriert.</translation>
    </message>
    <message>
        <source>%1 is already the primary thumbprint of &quot;%2&quot;.</source>
        <translation>%1 ist bereits der primäre Fingerabdruck von „%2“.</translation>
    </message>
    <message>
        <source>The certificate %1 becomes the primary of &quot;%2&quot;; the primary so far (%3) stays as secondary, so the device is taken with either until the next replacement.</source>
        <translation>Das Zertifikat %1 wird das primäre von „%2“; das bisherige primäre (%3) bleibt sekundär, sodass das Gerät bis zum nächsten Wechsel mit beiden angenommen wird.</translation>
    </message>
    <message>
        <source>The secondary so far (%1) is no longer accepted.</source>
        <translation>Das bisherige sekundäre (%1) wird nicht mehr angenommen.</translation>
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
    <message>
        <source>Modem</source>
        <translation>Modem</translation>
    </message>
    <message>
        <source>Relay</source>
        <translation>Relay</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>Station</translation>
    </message>
    <message>
        <source>Stopping the relay before closing…</source>
        <translation>Das Relay wird vor dem Schließen angehalten…</translation>
    </message>
    <message>
        <source>Telemetry</source>
        <translation>Telemetrie</translation>
    </message>
    <message>
        <source>Provisioning</source>
        <translation>Bereitstellung</translation>
    </message>
</context>
<context>
    <name>Onboarder::ModemCheck</name>
    <message numerus="yes">
        <source>%n second(s)</source>
        <translation>
            <numerusform>%n Sekunde</numerusform>
            <numerusform>%n Sekunden</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n minute(s)</source>
        <translation>
            <numerusform>%n Minute</numerusform>
            <numerusform>%n Minuten</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n hour(s)</source>
        <translation>
            <numerusform>%n Stunde</numerusform>
            <numerusform>%n Stunden</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n day(s)</source>
        <translation>
            <numerusform>%n Tag</numerusform>
            <numerusform>%n Tage</numerusform>
        </translation>
    </message>
    <message>
        <source>Modem: %1 %2, firmware %3, IMEI %4.</source>
        <translation>Modem: %1 %2, Firmware %3, IMEI %4.</translation>
    </message>
    <message>
        <source>SIM: ready (ICCID %1, IMSI %2).</source>
        <translation>SIM: bereit (ICCID %1, IMSI %2).</translation>
    </message>
    <message>
        <source>not read</source>
        <translation>nicht gelesen</translation>
    </message>
    <message>
        <source>SIM: none found (or it does not answer).</source>
        <translation>SIM: keine gefunden (oder sie antwortet nicht).</translation>
    </message>
    <message>
        <source>will not connect: no SIM</source>
        <translation>wird keine Verbindung herstellen: keine SIM</translation>
    </message>
    <message>
        <source>SIM: locked, it needs its PUK.</source>
        <translation>SIM: gesperrt, sie benötigt ihre PUK.</translation>
    </message>
    <message>
        <source>SIM: locked, it needs a PIN.</source>
        <translation>SIM: gesperrt, sie benötigt eine PIN.</translation>
    </message>
    <message>
        <source>will not connect: the SIM is locked by a PIN</source>
        <translation>wird keine Verbindung herstellen: Die SIM ist durch eine PIN gesperrt</translation>
    </message>
    <message>
        <source>SIM: not powered in functional mode %1.</source>
        <translation>SIM: im Funktionsmodus %1 nicht eingeschaltet.</translation>
    </message>
    <message>
        <source>SIM: the modem did not say.</source>
        <translation>SIM: vom Modem nicht gemeldet.</translation>
    </message>
    <message>
        <source>%1: missing</source>
        <translation>%1: fehlt</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>%1: present</source>
        <translation>%1: vorhanden</translation>
    </message>
    <message>
        <source>%1: present, not one this computer knows (SHA-256 %2…)</source>
        <translation>%1: vorhanden, aber diesem Computer nicht bekannt (SHA-256 %2…)</translation>
    </message>
    <message>
        <source>root CA</source>
        <translation>Stamm-CA</translation>
    </message>
    <message>
        <source>client certificate</source>
        <translation>Client-Zertifikat</translation>
    </message>
    <message>
        <source>private key</source>
        <translation>privater Schlüssel</translation>
    </message>
    <message>
        <source>Security tag %1: %2.</source>
        <translation>Sicherheits-Tag %1: %2.</translation>
    </message>
    <message>
        <source>will not connect: security tag %1 lacks the %2</source>
        <translation>wird keine Verbindung herstellen: Im Sicherheits-Tag %1 fehlt Folgendes: %2</translation>
    </message>
    <message>
        <source>System mode: %1.</source>
        <translation>Systemmodus: %1.</translation>
    </message>
    <message>
        <source>will not connect: neither LTE-M nor NB-IoT is enabled (AT%XSYSTEMMODE)</source>
        <translation>wird keine Verbindung herstellen: Weder LTE-M noch NB-IoT ist aktiviert (AT%XSYSTEMMODE)</translation>
    </message>
    <message>
        <source>Clock: %1, in step with this computer.</source>
        <translation>Uhr: %1, synchron mit diesem Computer.</translation>
    </message>
    <message>
        <source>Clock: %1, %2 %3 this computer&apos;s.</source>
        <translation>Uhr: %1, geht gegenüber diesem Computer %2 %3.</translation>
    </message>
    <message>
        <source>behind</source>
        <translation>nach</translation>
    </message>
    <message>
        <source>ahead of</source>
        <translation>vor</translation>
    </message>
    <message>
        <source>will not connect: the modem&apos;s clock is %1 off, so the hub&apos;s certificate looks invalid to it</source>
        <translation>wird keine Verbindung herstellen: Die Uhr des Modems weicht um %1 ab, daher hält es das Zertifikat des Hubs für ungültig</translation>
    </message>
    <message>
        <source>Clock: not known to the modem yet (it takes the time from the network).</source>
        <translation>Uhr: dem Modem noch nicht bekannt (es bezieht die Zeit aus dem Netz).</translation>
    </message>
    <message>
        <source>Network: not checked, LTE is off (functional mode %1).</source>
        <translation>Netz: nicht geprüft, LTE ist aus (Funktionsmodus %1).</translation>
    </message>
    <message>
        <source>network not checked: LTE is off (functional mode %1); check again with LTE switched on</source>
        <translation>Netz nicht geprüft: LTE ist aus (Funktionsmodus %1); erneut mit eingeschaltetem LTE prüfen</translation>
    </message>
    <message>
        <source> (TAC %1, cell %2)</source>
        <translation> (TAC %1, Zelle %2)</translation>
    </message>
    <message>
        <source>Network: %1%2%3.</source>
        <translation>Netz: %1%2%3.</translation>
    </message>
    <message>
        <source> on %1</source>
        <translation> über %1</translation>
    </message>
    <message numerus="yes">
        <source> Waited %n second(s) for the network.</source>
        <translation>
            <numerusform> %n Sekunde auf das Netz gewartet.</numerusform>
            <numerusform> %n Sekunden auf das Netz gewartet.</numerusform>
        </translation>
    </message>
    <message>
        <source>will not connect: the network denied registration (%1)</source>
        <translation>wird keine Verbindung herstellen: Das Netz hat die Registrierung abgelehnt (%1)</translation>
    </message>
    <message>
        <source>will not connect: the network denied registration</source>
        <translation>wird keine Verbindung herstellen: Das Netz hat die Registrierung abgelehnt</translation>
    </message>
    <message>
        <source>will not connect: searching for a network (no coverage here, or no operator the SIM may use in the enabled LTE modes)</source>
        <translation>wird keine Verbindung herstellen: sucht ein Netz (hier keine Abdeckung oder kein Netzbetreiber, den die SIM in den aktivierten LTE-Modi nutzen darf)</translation>
    </message>
    <message>
        <source>will not connect: not registered and not searching</source>
        <translation>wird keine Verbindung herstellen: nicht registriert und keine Netzsuche</translation>
    </message>
    <message>
        <source>Network: the modem did not say.</source>
        <translation>Netz: vom Modem nicht gemeldet.</translation>
    </message>
    <message>
        <source>will not connect: the registration status is unknown</source>
        <translation>wird keine Verbindung herstellen: Der Registrierungsstatus ist unbekannt</translation>
    </message>
    <message>
        <source>Signal: RSRP %1 dBm, RSRQ %2 dB: %3.</source>
        <translation>Signal: RSRP %1 dBm, RSRQ %2 dB: %3.</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>Signal: none measured.</source>
        <translation>Signal: kein Messwert.</translation>
    </message>
    <message>
        <source>registered but signal weak (RSRP %1 dBm): it may connect, then drop; move the antenna or the device</source>
        <translation>registriert, aber schwaches Signal (RSRP %1 dBm): Die Verbindung kann zustande kommen und dann abbrechen; Antenne oder Gerät anders platzieren</translation>
    </message>
    <message>
        <source>Cell: %1 (%2), band %3, TAC %4, cell %5.</source>
        <translation>Zelle: %1 (%2), Band %3, TAC %4, Zelle %5.</translation>
    </message>
    <message>
        <source>operator unnamed</source>
        <translation>Netzbetreiber ohne Namen</translation>
    </message>
    <message>
        <source>Not answered: %1</source>
        <translation>Nicht beantwortet: %1</translation>
    </message>
    <message>
        <source>ready (roaming)</source>
        <translation>bereit (Roaming)</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>bereit</translation>
    </message>
    <message>
        <source>The modem check was cancelled.</source>
        <translation>Die Modemprüfung wurde abgebrochen.</translation>
    </message>
    <message>
        <source>%1, as Onboarder flashes it</source>
        <translation>%1, wie Onboarder es flasht</translation>
    </message>
    <message>
        <source>%1 + %2, as Onboarder flashes them</source>
        <translation>%1 + %2, wie Onboarder sie flasht</translation>
    </message>
    <message>
        <source>the certificate of %1 in hub %2</source>
        <translation>das Zertifikat von %1 in Hub %2</translation>
    </message>
    <message>
        <source>A modem check is running already.</source>
        <translation>Es läuft bereits eine Modemprüfung.</translation>
    </message>
    <message>
        <source>The modem&apos;s port is not open.</source>
        <translation>Der Port des Modems ist nicht geöffnet.</translation>
    </message>
    <message>
        <source>Reading the modem&apos;s identity</source>
        <translation>Lesen der Identität des Modems</translation>
    </message>
    <message>
        <source>Reading the functional mode</source>
        <translation>Lesen des Funktionsmodus</translation>
    </message>
    <message>
        <source>Switching LTE on for the check</source>
        <translation>Einschalten von LTE für die Prüfung</translation>
    </message>
    <message>
        <source>Reading the SIM</source>
        <translation>Lesen der SIM</translation>
    </message>
    <message>
        <source>Reading the SIM&apos;s state</source>
        <translation>Lesen des SIM-Status</translation>
    </message>
    <message>
        <source>Reading the ICCID</source>
        <translation>Lesen der ICCID</translation>
    </message>
    <message>
        <source>Reading the IMSI</source>
        <translation>Lesen der IMSI</translation>
    </message>
    <message>
        <source>Reading the LTE modes</source>
        <translation>Lesen der LTE-Modi</translation>
    </message>
    <message>
        <source>Reading the system mode</source>
        <translation>Lesen des Systemmodus</translation>
    </message>
    <message>
        <source>Reading the network registration</source>
        <translation>Lesen der Netzregistrierung</translation>
    </message>
    <message>
        <source>Reading the registration</source>
        <translation>Lesen der Registrierung</translation>
    </message>
    <message>
        <source>Asking for the registration&apos;s details</source>
        <translation>Abfragen der Registrierungsdetails</translation>
    </message>
    <message>
        <source>Waiting for the network</source>
        <translation>Warten auf das Netz</translation>
    </message>
    <message>
        <source>Restoring the registration reports</source>
        <translation>Wiederherstellen der Registrierungsmeldungen</translation>
    </message>
    <message>
        <source>Measuring the signal</source>
        <translation>Messen des Signals</translation>
    </message>
    <message>
        <source>Reading the cell</source>
        <translation>Lesen der Zelle</translation>
    </message>
    <message>
        <source>Reading the modem&apos;s clock</source>
        <translation>Lesen der Uhr des Modems</translation>
    </message>
    <message>
        <source>Listing the credentials</source>
        <translation>Auflisten der Anmeldedaten</translation>
    </message>
    <message>
        <source>Switching the modem back</source>
        <translation>Zurückschalten des Modems</translation>
    </message>
    <message>
        <source>The modem is gone.</source>
        <translation>Das Modem ist nicht mehr vorhanden.</translation>
    </message>
    <message numerus="yes">
        <source>Waiting for the network (%n second(s))</source>
        <translation>
            <numerusform>Warten auf das Netz (%n Sekunde)</numerusform>
            <numerusform>Warten auf das Netz (%n Sekunden)</numerusform>
        </translation>
    </message>
    <message>
        <source>Switching the modem back to functional mode %1</source>
        <translation>Modem zurück in Funktionsmodus %1 schalten</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 fehlgeschlagen: %2</translation>
    </message>
</context>
<context>
    <name>Onboarder::ModemCheckView</name>
    <message>
        <source>Switch LTE on for the check</source>
        <translation>LTE für die Prüfung einschalten</translation>
    </message>
    <message>
        <source>Check Modem</source>
        <translation>Modem prüfen</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keiner</translation>
    </message>
    <message>
        <source>Security tag to check</source>
        <translation>Zu prüfendes Sicherheits-Tag</translation>
    </message>
    <message>
        <source>The security tag the device&apos;s firmware connects with: its root CA, certificate and key are checked</source>
        <translation>Das Sicherheits-Tag, mit dem die Firmware des Geräts die Verbindung aufbaut: Stamm-CA, Zertifikat und Schlüssel darin werden geprüft</translation>
    </message>
    <message>
        <source>When LTE is off (flight mode), switch it on (AT+CFUN=1) for the check and back to the mode it was in afterwards. The modem then registers with the network: do it only where that is allowed.</source>
        <translation>Wenn LTE aus ist (Flugmodus), es für die Prüfung einschalten (AT+CFUN=1) und danach in den vorherigen Modus zurückschalten. Das Modem registriert sich dann im Netz: Tun Sie das nur dort, wo es erlaubt ist.</translation>
    </message>
    <message>
        <source>Not checked yet. Connect to a modem and check whether it can reach the hub: SIM, network, signal, clock and credentials.</source>
        <translation>Noch nicht geprüft. Verbinden Sie sich mit einem Modem und prüfen Sie, ob es den Hub erreichen kann: SIM, Netz, Signal, Uhr und Anmeldedaten.</translation>
    </message>
    <message>
        <source>What the check found</source>
        <translation>Was die Prüfung ergeben hat</translation>
    </message>
    <message>
        <source>Tag:</source>
        <translation>Tag:</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>Prüfe…</translation>
    </message>
    <message>
        <source>Check cancelled.</source>
        <translation>Prüfung abgebrochen.</translation>
    </message>
    <message>
        <source>The check stopped: %1</source>
        <translation>Prüfung abgebrochen: %1</translation>
    </message>
</context>
<context>
    <name>Onboarder::ModemCredentialStore</name>
    <message>
        <source>Security tag %1 is not yours to change: tags from 0 to 2147483647 are, the ones above belong to the modem.</source>
        <translation>Sicherheits-Tag %1 dürfen Sie nicht ändern: Ihnen gehören die Tags von 0 bis 2147483647, die darüber gehören dem Modem.</translation>
    </message>
    <message>
        <source>the %1 in security tag %2</source>
        <translation>„%1“ in Sicherheits-Tag %2</translation>
    </message>
    <message>
        <source>The credential is empty.</source>
        <translation>Die Anmeldedaten sind leer.</translation>
    </message>
    <message>
        <source>The credential contains a double quote (&quot;); AT commands have no way to send one.</source>
        <translation>Die Anmeldedaten enthalten ein doppeltes Anführungszeichen (&quot;); AT-Befehle können es nicht übertragen.</translation>
    </message>
    <message>
        <source>The credential contains a NUL byte; it is not text.</source>
        <translation>Die Anmeldedaten enthalten ein NUL-Byte; das ist kein Text.</translation>
    </message>
    <message>
        <source>A root CA credential must be one or more PEM certificates (&quot;-----BEGIN CERTIFICATE-----&quot;).</source>
        <translation>Anmeldedaten für eine Stamm-CA müssen aus einem oder mehreren PEM-Zertifikaten bestehen („-----BEGIN CERTIFICATE-----“).</translation>
    </message>
    <message>
        <source>A client certificate must be a PEM certificate (&quot;-----BEGIN CERTIFICATE-----&quot;).</source>
        <translation>Ein Client-Zertifikat muss ein PEM-Zertifikat sein („-----BEGIN CERTIFICATE-----“).</translation>
    </message>
    <message>
        <source>A client key must be a PEM private key (&quot;-----BEGIN PRIVATE KEY-----&quot;).</source>
        <translation>Ein Client-Schlüssel muss ein privater Schlüssel im PEM-Format sein („-----BEGIN PRIVATE KEY-----“).</translation>
    </message>
    <message>
        <source>A pre-shared key is written as hexadecimal text, two digits a byte.</source>
        <translation>Ein Pre-Shared Key wird als Hexadezimaltext geschrieben, zwei Ziffern pro Byte.</translation>
    </message>
    <message>
        <source>A PSK identity is one line of plain ASCII text.</source>
        <translation>Eine PSK-Identität besteht aus einer Zeile reinem ASCII-Text.</translation>
    </message>
    <message>
        <source>Listing the modem&apos;s credentials</source>
        <translation>Auflisten der Anmeldedaten des Modems</translation>
    </message>
    <message>
        <source>The modem never gives back a %1; compare its SHA-256 instead (verify).</source>
        <translation>Einen Eintrag vom Typ „%1“ gibt das Modem nie zurück; vergleichen Sie stattdessen seinen SHA-256 (verify).</translation>
    </message>
    <message>
        <source>Reading %1</source>
        <translation>Lesen von %1</translation>
    </message>
    <message>
        <source>The modem&apos;s answer to the read has no quoted content.</source>
        <translation>Die Antwort des Modems auf das Lesen enthält keinen Inhalt in Anführungszeichen.</translation>
    </message>
    <message>
        <source>The credential is empty or contains a double quote or a NUL byte, which AT commands cannot carry.</source>
        <translation>Die Anmeldedaten sind leer oder enthalten ein doppeltes Anführungszeichen oder ein NUL-Byte, was AT-Befehle nicht übertragen können.</translation>
    </message>
    <message>
        <source>The modem takes key passwords of at most 32 characters, without double quotes.</source>
        <translation>Das Modem akzeptiert Schlüsselpasswörter mit höchstens 32 Zeichen, ohne doppelte Anführungszeichen.</translation>
    </message>
    <message>
        <source>Writing %1</source>
        <translation>Schreiben von %1</translation>
    </message>
    <message>
        <source>The modem accepted %1 but does not list it.</source>
        <translation>Das Modem hat %1 angenommen, führt den Eintrag aber nicht auf.</translation>
    </message>
    <message>
        <source>The modem stores other bytes as %1 than were written: its SHA-256 is %2, the written bytes&apos; is %3.</source>
        <translation>Das Modem speichert als %1 andere Bytes, als geschrieben wurden: Ihr SHA-256 ist %2, der der geschriebenen Bytes %3.</translation>
    </message>
    <message>
        <source>Deleting %1</source>
        <translation>Löschen von %1</translation>
    </message>
    <message>
        <source>The key&apos;s common name must have 1 to 64 characters, without &quot;, comma or =.</source>
        <translation>Der allgemeine Name (CN) des Schlüssels muss 1 bis 64 Zeichen lang sein, ohne &quot;, Komma oder =.</translation>
    </message>
    <message>
        <source>Generating a key in security tag %1</source>
        <translation>Erzeugen eines Schlüssels in Sicherheits-Tag %1</translation>
    </message>
    <message>
        <source>The modem did not answer the write of %1 (%2 bytes): the data most likely stalled on the way, which some boards&apos; USB-serial bridges do with long certificate chains.</source>
        <translation>Das Modem hat auf das Schreiben von %1 (%2 Bytes) nicht geantwortet: Die Daten sind höchstwahrscheinlich unterwegs hängen geblieben, wie es die USB-Seriell-Brücken mancher Boards bei langen Zertifikatsketten tun.</translation>
    </message>
    <message>
        <source>Try again with hardware flow control on, at a lower baud rate, or with the board on a direct USB connection (not through a hub).</source>
        <translation>Versuchen Sie es erneut mit eingeschalteter Hardware-Flusssteuerung, mit einer niedrigeren Baudrate oder mit dem Board direkt am USB-Anschluss (nicht über einen Hub).</translation>
    </message>
    <message>
        <source>The modem answers again; whether %1 holds something could not be read: %2</source>
        <translation>Das Modem antwortet wieder; ob %1 etwas enthält, konnte nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The modem answers again; nothing was stored in its place.</source>
        <translation>Das Modem antwortet wieder; an dieser Stelle wurde nichts gespeichert.</translation>
    </message>
    <message>
        <source>The modem answers again; %1 holds an entry now (SHA-256 %2), which may be the old one or a part of this write: write it again before use.</source>
        <translation>Das Modem antwortet wieder; %1 enthält jetzt einen Eintrag (SHA-256 %2), der der alte oder ein Teil dieses Schreibvorgangs sein kann: Schreiben Sie ihn vor der Verwendung erneut.</translation>
    </message>
</context>
<context>
    <name>Onboarder::ModemPage</name>
    <message>
        <source> (AT port)</source>
        <translation> (AT-Port)</translation>
    </message>
    <message>
        <source> (not the AT port)</source>
        <translation> (nicht der AT-Port)</translation>
    </message>
    <message>
        <source>not looked at</source>
        <translation>nicht geprüft</translation>
    </message>
    <message>
        <source>written and verified</source>
        <translation>geschrieben und geprüft</translation>
    </message>
    <message>
        <source>written, not verifiable (firmware lists no hashes)</source>
        <translation>geschrieben, nicht prüfbar (die Firmware listet keine Hashes)</translation>
    </message>
    <message>
        <source>holds something else</source>
        <translation>enthält etwas anderes</translation>
    </message>
    <message>
        <source>empty</source>
        <translation>leer</translation>
    </message>
    <message>
        <source>unknown (the modem did not answer)</source>
        <translation>unbekannt (das Modem hat nicht geantwortet)</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>Verbinden</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <source>Write from File…</source>
        <translation>Aus Datei schreiben…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
    <message>
        <source>Flash Azure Credentials…</source>
        <translation>Azure-Anmeldedaten flashen…</translation>
    </message>
    <message>
        <source>Modem</source>
        <translation>Modem</translation>
    </message>
    <message>
        <source>An nRF91 modem on a serial port: its identity, the credentials in its security tags, and the Azure credentials of a device written into them.</source>
        <translation>Ein nRF91-Modem an einem seriellen Port: seine Identität, die Anmeldedaten in seinen Sicherheits-Tags und die Azure-Anmeldedaten eines Geräts, die hineingeschrieben werden.</translation>
    </message>
    <message>
        <source>Serial ports</source>
        <translation>Serielle Ports</translation>
    </message>
    <message>
        <source>Tag</source>
        <translation>Tag</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Typ</translation>
    </message>
    <message>
        <source>SHA-256</source>
        <translation>SHA-256</translation>
    </message>
    <message>
        <source>Stored credentials</source>
        <translation>Gespeicherte Anmeldedaten</translation>
    </message>
    <message>
        <source>Tag:</source>
        <translation>Tag:</translation>
    </message>
    <message>
        <source>Type:</source>
        <translation>Typ:</translation>
    </message>
    <message>
        <source>Azure IoT Hub credentials</source>
        <translation>Azure IoT Hub-Anmeldedaten</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keiner</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>Gerät:</translation>
    </message>
    <message>
        <source>Secondary tag:</source>
        <translation>Sekundärer Tag:</translation>
    </message>
    <message>
        <source>%1, serial number %2</source>
        <translation>%1, Seriennummer %2</translation>
    </message>
    <message>
        <source>No serial port found. Plug the modem in by USB.</source>
        <translation>Kein serieller Port gefunden. Schließen Sie das Modem per USB an.</translation>
    </message>
    <message>
        <source>Disconnect</source>
        <translation>Trennen</translation>
    </message>
    <message>
        <source>no current hub</source>
        <translation>kein aktueller Hub</translation>
    </message>
    <message>
        <source>no device of &quot;%1&quot; has a key here</source>
        <translation>kein Gerät von „%1“ hat hier einen Schlüssel</translation>
    </message>
    <message>
        <source>Not connected. Choose the modem&apos;s port and press Connect.</source>
        <translation>Nicht verbunden. Wählen Sie den Port des Modems und klicken Sie auf „Verbinden“.</translation>
    </message>
    <message>
        <source>Opening %1…</source>
        <translation>Öffne %1…</translation>
    </message>
    <message>
        <source>0 (off)</source>
        <translation>0 (aus)</translation>
    </message>
    <message>
        <source>1 (normal)</source>
        <translation>1 (normal)</translation>
    </message>
    <message>
        <source>4 (offline, flight mode)</source>
        <translation>4 (offline, Flugmodus)</translation>
    </message>
    <message>
        <source>IMEI %1 · %2 %3 · firmware %4%5 · functional mode %6</source>
        <translation>IMEI %1 · %2 %3 · Firmware %4%5 · Funktionsmodus %6</translation>
    </message>
    <message>
        <source> · UUID %1</source>
        <translation> · UUID %1</translation>
    </message>
    <message>
        <source>Connected to %1.</source>
        <translation>Mit %1 verbunden.</translation>
    </message>
    <message>
        <source>Reading the stored credentials…</source>
        <translation>Lese die gespeicherten Anmeldedaten…</translation>
    </message>
    <message>
        <source>(not listed by this firmware)</source>
        <translation>(von dieser Firmware nicht gelistet)</translation>
    </message>
    <message>
        <source>The modem stores no credentials in user tags.</source>
        <translation>Das Modem speichert keine Anmeldedaten in Benutzer-Tags.</translation>
    </message>
    <message>
        <source>%1 credentials stored.</source>
        <translation>%1 Anmeldedaten gespeichert.</translation>
    </message>
    <message>
        <source>Credential File</source>
        <translation>Datei mit Anmeldedaten</translation>
    </message>
    <message>
        <source>PEM files (*.pem *.crt *.key);;All files (*)</source>
        <translation>PEM-Dateien (*.pem *.crt *.key);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 ist nicht lesbar: %2</translation>
    </message>
    <message>
        <source>Writing %1 into tag %2…</source>
        <translation>Schreibe %1 in Tag %2…</translation>
    </message>
    <message>
        <source>Wrote %1 into tag %2 and verified it.</source>
        <translation>%1 in Tag %2 geschrieben und geprüft.</translation>
    </message>
    <message>
        <source>Delete Credential</source>
        <translation>Anmeldedaten löschen</translation>
    </message>
    <message>
        <source>Delete the %1 in security tag %2 from the modem? A device that uses this tag cannot connect until it is written again.</source>
        <translation>„%1“ in Sicherheits-Tag %2 vom Modem löschen? Ein Gerät, das diesen Tag nutzt, kann sich erst wieder verbinden, wenn er neu geschrieben wurde.</translation>
    </message>
    <message>
        <source>Deleting…</source>
        <translation>Lösche…</translation>
    </message>
    <message>
        <source>Write the Azure credentials of &quot;%1&quot; into the modem: both root CAs, the device certificate and its key into tag %2?

What this tag holds now is replaced. The modem goes offline meanwhile and returns to its mode afterwards.</source>
        <translation>Die Azure-Anmeldedaten von „%1“ ins Modem schreiben: beide Stamm-CAs, das Gerätezertifikat und seinen Schlüssel in Tag %2?

Was dieser Tag jetzt enthält, wird ersetzt. Das Modem geht währenddessen offline und kehrt danach in seinen Modus zurück.</translation>
    </message>
    <message>
        <source>Flash Azure Credentials</source>
        <translation>Azure-Anmeldedaten flashen</translation>
    </message>
    <message>
        <source>Reading the credentials of &quot;%1&quot; from the keychain…</source>
        <translation>Lese die Anmeldedaten von „%1“ aus dem Schlüsselbund…</translation>
    </message>
    <message>
        <source>The modem was disconnected.</source>
        <translation>Die Verbindung zum Modem wurde getrennt.</translation>
    </message>
    <message>
        <source>Flashing…</source>
        <translation>Flashe…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>tag %1, %2: %3</source>
        <translation>Tag %1, %2: %3</translation>
    </message>
    <message>
        <source>The Azure credentials of &quot;%1&quot; are on the modem and verified.</source>
        <translation>Die Azure-Anmeldedaten von „%1“ sind auf dem Modem und geprüft.</translation>
    </message>
    <message>
        <source>Flashing stopped: %1</source>
        <translation>Flashen abgebrochen: %1</translation>
    </message>
    <message>
        <source>What the modem holds now:</source>
        <translation>Was das Modem jetzt enthält:</translation>
    </message>
    <message>
        <source>Its functional mode was not restored.</source>
        <translation>Sein Funktionsmodus wurde nicht wiederhergestellt.</translation>
    </message>
    <message>
        <source>Credentials</source>
        <translation>Anmeldedaten</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>Prüfung</translation>
    </message>
    <message>
        <source>Terminal</source>
        <translation>Terminal</translation>
    </message>
    <message>
        <source>Modem check: %1</source>
        <translation>Modemprüfung: %1</translation>
    </message>
    <message>
        <source>DigiCert Global Root G2, the device certificate and its key into the tag; Microsoft RSA Root Certificate Authority 2017 into the secondary tag, as the nRF Connect SDK&apos;s Azure IoT Hub library expects</source>
        <translation>DigiCert Global Root G2, das Gerätezertifikat und sein Schlüssel in den Tag; Microsoft RSA Root Certificate Authority 2017 in den zweiten Tag, wie es die Azure-IoT-Hub-Bibliothek des nRF Connect SDK erwartet</translation>
    </message>
    <message>
        <source>Write the Azure credentials of &quot;%1&quot; into the modem: DigiCert Global Root G2, the device certificate and its key into tag %2, Microsoft RSA Root Certificate Authority 2017 into tag %3?

What these tags hold now is replaced. The modem goes offline meanwhile and returns to its mode afterwards.</source>
        <translation>Die Azure-Anmeldedaten von „%1“ ins Modem schreiben: DigiCert Global Root G2, das Gerätezertifikat und seinen Schlüssel in Tag %2, Microsoft RSA Root Certificate Authority 2017 in Tag %3?

Was diese Tags jetzt enthalten, wird ersetzt. Das Modem geht währenddessen offline und kehrt danach in seinen Modus zurück.</translation>
    </message>
    <message>
        <source>Warning: %1</source>
        <translation>Warnung: %1</translation>
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
        <source>User properties need MQTT 5; this connection uses MQTT 3.1.1.</source>
        <translation>Benutzereigenschaften (User Properties) erfordern MQTT 5; diese Verbindung verwendet MQTT 3.1.1.</translation>
    </message>
    <message>
        <source>The message is too large for MQTT (%1 bytes).</source>
        <translation>Die Nachricht ist zu groß für MQTT (%1 Bytes).</translation>
    </message>
    <message>
        <source>The WebSocket path must start with &quot;/&quot; (IoT Hub&apos;s is %1).</source>
        <translation>Der WebSocket-Pfad muss mit „/“ beginnen (der von IoT Hub ist %1).</translation>
    </message>
    <message>
        <source>The proxy must be given as http://host:port.</source>
        <translation>Der Proxy muss als http://host:port angegeben werden.</translation>
    </message>
    <message>
        <source>malformed packet</source>
        <translation>fehlerhaftes Paket</translation>
    </message>
    <message>
        <source>implementation specific error</source>
        <translation>implementierungsspezifischer Fehler</translation>
    </message>
    <message>
        <source>receive maximum exceeded</source>
        <translation>Empfangsmaximum überschritten</translation>
    </message>
    <message>
        <source>payload format not valid</source>
        <translation>Nutzdatenformat ungültig</translation>
    </message>
    <message>
        <source>retain not supported</source>
        <translation>Retain nicht unterstützt</translation>
    </message>
    <message>
        <source>use another server</source>
        <translation>anderen Server verwenden</translation>
    </message>
    <message>
        <source>server moved</source>
        <translation>Server umgezogen</translation>
    </message>
    <message>
        <source>shared subscriptions not supported</source>
        <translation>geteilte Abonnements nicht unterstützt</translation>
    </message>
    <message>
        <source>maximum connect time</source>
        <translation>maximale Verbindungsdauer erreicht</translation>
    </message>
    <message>
        <source>subscription identifiers not supported</source>
        <translation>Abonnement-IDs nicht unterstützt</translation>
    </message>
    <message>
        <source>wildcard subscriptions not supported</source>
        <translation>Abonnements mit Platzhaltern nicht unterstützt</translation>
    </message>
    <message>
        <source>No answer from %1 within %2 seconds.</source>
        <translation>Keine Antwort von %1 innerhalb von %2 Sekunden.</translation>
    </message>
    <message>
        <source>The client certificate &quot;%1&quot; or its key cannot be used for TLS.</source>
        <translation>Das Client-Zertifikat „%1“ oder sein Schlüssel kann nicht für TLS verwendet werden.</translation>
    </message>
    <message>
        <source>the broker at %1:%2</source>
        <translation>der Broker unter %1:%2</translation>
    </message>
    <message>
        <source>The CA file %1 holds no PEM certificate.</source>
        <translation>Die CA-Datei %1 enthält kein PEM-Zertifikat.</translation>
    </message>
    <message>
        <source>Lost the connection to %1: %2.</source>
        <translation>Die Verbindung zu %1 ist abgebrochen: %2.</translation>
    </message>
    <message>
        <source>The certificate of %1 failed verification: it is not valid for the host name &quot;%2&quot;.</source>
        <translation>Das Zertifikat von %1 hat die Prüfung nicht bestanden: Es gilt nicht für den Hostnamen „%2“.</translation>
    </message>
    <message>
        <source>The certificate of %1 failed verification (%2): it is not issued by a trusted CA, or it has expired. Check the CA file.</source>
        <translation>Das Zertifikat von %1 hat die Prüfung nicht bestanden (%2): Es stammt nicht von einer vertrauenswürdigen CA oder ist abgelaufen. Prüfen Sie die CA-Datei.</translation>
    </message>
    <message>
        <source>The proxy %1 did not connect to %2: %3.</source>
        <translation>Der Proxy %1 hat keine Verbindung zu %2 hergestellt: %3.</translation>
    </message>
    <message>
        <source>The TLS handshake with %1 failed: %2. Did it accept the client certificate?</source>
        <translation>Der TLS-Handshake mit %1 ist fehlgeschlagen: %2. Hat er das Client-Zertifikat akzeptiert?</translation>
    </message>
    <message>
        <source>The TLS handshake with %1 failed: %2. It may require a client certificate.</source>
        <translation>Der TLS-Handshake mit %1 ist fehlgeschlagen: %2. Möglicherweise verlangt er ein Client-Zertifikat.</translation>
    </message>
    <message>
        <source>Cannot reach %1: %2.</source>
        <translation>%1 ist nicht erreichbar: %2.</translation>
    </message>
    <message>
        <source>%1 closed the TLS connection: it did not accept the client certificate.</source>
        <translation>%1 hat die TLS-Verbindung geschlossen: Das Client-Zertifikat wurde nicht akzeptiert.</translation>
    </message>
    <message>
        <source>%1 closed the TLS connection: it may require a client certificate.</source>
        <translation>%1 hat die TLS-Verbindung geschlossen: Möglicherweise wird ein Client-Zertifikat verlangt.</translation>
    </message>
    <message>
        <source>%1 closed the connection without answering. Does it expect TLS?</source>
        <translation>%1 hat die Verbindung ohne Antwort geschlossen. Wird TLS erwartet?</translation>
    </message>
    <message>
        <source>No WebSocket upgrade from %1.</source>
        <translation>Kein WebSocket-Upgrade von %1.</translation>
    </message>
    <message>
        <source>Cannot use MQTT over WebSockets with %1: %2.</source>
        <translation>MQTT über WebSockets ist mit %1 nicht möglich: %2.</translation>
    </message>
    <message>
        <source>%1 closed the WebSocket.</source>
        <translation>%1 hat den WebSocket geschlossen.</translation>
    </message>
    <message>
        <source>a malformed WebSocket frame</source>
        <translation>ein fehlerhafter WebSocket-Frame</translation>
    </message>
    <message>
        <source>a packet of a malformed length</source>
        <translation>ein Paket mit fehlerhafter Länge</translation>
    </message>
    <message>
        <source>%1 broke the MQTT protocol (%2); the connection was closed.</source>
        <translation>%1 hat das MQTT-Protokoll verletzt (%2); die Verbindung wurde geschlossen.</translation>
    </message>
    <message>
        <source>packet type %1 before CONNACK</source>
        <translation>Pakettyp %1 vor CONNACK</translation>
    </message>
    <message>
        <source>a malformed DISCONNECT</source>
        <translation>ein fehlerhaftes DISCONNECT</translation>
    </message>
    <message>
        <source>%1 closed the connection: %2 (%3).</source>
        <translation>%1 hat die Verbindung geschlossen: %2 (%3).</translation>
    </message>
    <message>
        <source>unexpected packet type %1</source>
        <translation>unerwarteter Pakettyp %1</translation>
    </message>
    <message>
        <source>a second CONNACK</source>
        <translation>ein zweites CONNACK</translation>
    </message>
    <message>
        <source>a malformed CONNACK</source>
        <translation>ein fehlerhaftes CONNACK</translation>
    </message>
    <message>
        <source>%1 refused the connection: %2 (%3).</source>
        <translation>%1 hat die Verbindung abgelehnt: %2 (%3).</translation>
    </message>
    <message>
        <source>a malformed PUBLISH</source>
        <translation>ein fehlerhaftes PUBLISH</translation>
    </message>
    <message>
        <source>a QoS 2 message, which no subscription asked for</source>
        <translation>eine QoS-2-Nachricht, die kein Abonnement verlangt hat</translation>
    </message>
    <message>
        <source>a malformed PUBACK</source>
        <translation>ein fehlerhaftes PUBACK</translation>
    </message>
    <message>
        <source>%1 refused message %2: %3 (%4).</source>
        <translation>%1 hat Nachricht %2 abgelehnt: %3 (%4).</translation>
    </message>
    <message>
        <source>a malformed UNSUBACK</source>
        <translation>ein fehlerhaftes UNSUBACK</translation>
    </message>
    <message>
        <source>a malformed SUBACK</source>
        <translation>ein fehlerhaftes SUBACK</translation>
    </message>
    <message>
        <source>an acknowledgement of another kind than the request %1</source>
        <translation>eine Bestätigung anderer Art als die Anfrage %1</translation>
    </message>
    <message>
        <source>Unsubscribing from %1 failed: %2 (%3).</source>
        <translation>Das Abbestellen von %1 ist fehlgeschlagen: %2 (%3).</translation>
    </message>
    <message>
        <source>%1 refused the subscription to %2: %3 (%4).</source>
        <translation>%1 hat das Abonnement von %2 abgelehnt: %3 (%4).</translation>
    </message>
    <message>
        <source>No answer from %1 for %2 seconds: the connection is taken as lost.</source>
        <translation>Seit %2 Sekunden keine Antwort von %1: Die Verbindung gilt als verloren.</translation>
    </message>
    <message>
        <source>Not connected to %1: the message to %2 was not sent.</source>
        <translation>Nicht mit %1 verbunden: Die Nachricht an %2 wurde nicht gesendet.</translation>
    </message>
    <message>
        <source>Too many messages to %1 wait for an acknowledgement.</source>
        <translation>Zu viele Nachrichten an %1 warten auf eine Bestätigung.</translation>
    </message>
    <message>
        <source>The message to %1 is %2 bytes as a packet; %3 takes at most %4.</source>
        <translation>Die Nachricht an %1 ist als Paket %2 Bytes groß; %3 nimmt höchstens %4 an.</translation>
    </message>
    <message>
        <source>Not connected to %1: cannot subscribe to %2.</source>
        <translation>Nicht mit %1 verbunden: %2 kann nicht abonniert werden.</translation>
    </message>
    <message>
        <source>Not connected to %1: cannot unsubscribe from %2.</source>
        <translation>Nicht mit %1 verbunden: %2 kann nicht abbestellt werden.</translation>
    </message>
</context>
<context>
    <name>Onboarder::NewEnrollmentDialog</name>
    <message>
        <source>Enabled: devices may register</source>
        <translation>Aktiviert: Geräte dürfen sich registrieren</translation>
    </message>
    <message>
        <source>New Enrollment Group</source>
        <translation>Neue Registrierungsgruppe</translation>
    </message>
    <message>
        <source>New Enrollment</source>
        <translation>Neuer Registrierungseintrag</translation>
    </message>
    <message>
        <source>An enrollment group admits every device whose certificate a CA signed, or whose key is derived from the group&apos;s key.</source>
        <translation>Eine Registrierungsgruppe lässt jedes Gerät zu, dessen Zertifikat von einer CA signiert wurde oder dessen Schlüssel aus dem Schlüssel der Gruppe abgeleitet ist.</translation>
    </message>
    <message>
        <source>An individual enrollment admits one device: by the certificate kept here for it (make one on the Devices page or with onboarder-cli cred generate), or by keys that DPS makes.</source>
        <translation>Eine Einzelregistrierung lässt ein einzelnes Gerät zu: über das hier dafür aufbewahrte Zertifikat (erstellen Sie eines auf der Seite „Geräte“ oder mit onboarder-cli cred generate) oder über Schlüssel, die der DPS erzeugt.</translation>
    </message>
    <message>
        <source>e.g. fleet-2026</source>
        <translation>z. B. fleet-2026</translation>
    </message>
    <message>
        <source>e.g. nrf-352656100123456 (lower case)</source>
        <translation>z. B. nrf-352656100123456 (Kleinbuchstaben)</translation>
    </message>
    <message>
        <source>X.509: devices signed by a CA kept here</source>
        <translation>X.509: Geräte, die von einer hier aufbewahrten CA signiert sind</translation>
    </message>
    <message>
        <source>Symmetric key: each device&apos;s key derived from the group&apos;s</source>
        <translation>Symmetrischer Schlüssel: Der Schlüssel jedes Geräts wird aus dem der Gruppe abgeleitet</translation>
    </message>
    <message>
        <source>X.509: the certificate kept here for this id</source>
        <translation>X.509: das hier für diese ID aufbewahrte Zertifikat</translation>
    </message>
    <message>
        <source>Symmetric key (DPS makes the keys)</source>
        <translation>Symmetrischer Schlüssel (der DPS erzeugt die Schlüssel)</translation>
    </message>
    <message>
        <source>no CA is kept here</source>
        <translation>hier wird keine CA aufbewahrt</translation>
    </message>
    <message>
        <source>site=bench-1, batch=7</source>
        <translation>site=bench-1, batch=7</translation>
    </message>
    <message>
        <source>Create</source>
        <translation>Erstellen</translation>
    </message>
    <message>
        <source>&amp;Group ID:</source>
        <translation>&amp;Gruppen-ID:</translation>
    </message>
    <message>
        <source>&amp;Registration ID:</source>
        <translation>&amp;Registrierungs-ID:</translation>
    </message>
    <message>
        <source>&amp;Attestation:</source>
        <translation>&amp;Nachweis:</translation>
    </message>
    <message>
        <source>&amp;CA:</source>
        <translation>&amp;CA:</translation>
    </message>
    <message>
        <source>Initial twin &amp;tags:</source>
        <translation>Anfängliche Twin-&amp;Tags:</translation>
    </message>
    <message>
        <source>Give the group an id.</source>
        <translation>Geben Sie der Gruppe eine ID.</translation>
    </message>
    <message>
        <source>Give the registration id.</source>
        <translation>Geben Sie die Registrierungs-ID an.</translation>
    </message>
    <message>
        <source>A group id takes letters, digits, &apos;-&apos;, &apos;.&apos;, &apos;_&apos; and &apos;:&apos;, at most 128.</source>
        <translation>Eine Gruppen-ID besteht aus Buchstaben, Ziffern, &apos;-&apos;, &apos;.&apos;, &apos;_&apos; und &apos;:&apos;, höchstens 128 Zeichen.</translation>
    </message>
    <message>
        <source>A registration id takes lower-case letters, digits, &apos;-&apos;, &apos;.&apos;, &apos;_&apos; and &apos;:&apos;, at most 128.</source>
        <translation>Eine Registrierungs-ID besteht aus Kleinbuchstaben, Ziffern, &apos;-&apos;, &apos;.&apos;, &apos;_&apos; und &apos;:&apos;, höchstens 128 Zeichen.</translation>
    </message>
    <message>
        <source>No CA is kept here: import one with onboarder-cli cred import-ca, or use a symmetric key.</source>
        <translation>Hier wird keine CA aufbewahrt: Importieren Sie eine mit onboarder-cli cred import-ca oder verwenden Sie einen symmetrischen Schlüssel.</translation>
    </message>
    <message>
        <source>The certificate of CA &quot;%1&quot; cannot be read: %2</source>
        <translation>Das Zertifikat der CA „%1“ kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>No certificate is kept here for &quot;%1&quot;: make one on the Devices page or with onboarder-cli cred generate %1, or use a symmetric key.</source>
        <translation>Für „%1“ wird hier kein Zertifikat aufbewahrt: Erstellen Sie eines auf der Seite „Geräte“ oder mit onboarder-cli cred generate %1, oder verwenden Sie einen symmetrischen Schlüssel.</translation>
    </message>
    <message>
        <source>Devices whose certificate CA &quot;%1&quot; signed.</source>
        <translation>Geräte, deren Zertifikat die CA „%1“ signiert hat.</translation>
    </message>
    <message>
        <source>Certificate kept here, SHA-256 %1….</source>
        <translation>Hier aufbewahrtes Zertifikat, SHA-256 %1….</translation>
    </message>
    <message>
        <source>DPS makes the keys; a device registers with its key (a group&apos;s member: derived).</source>
        <translation>Der DPS erzeugt die Schlüssel; ein Gerät registriert sich mit seinem Schlüssel (als Mitglied einer Gruppe: mit dem abgeleiteten).</translation>
    </message>
</context>
<context>
    <name>Onboarder::Nrf91Modem</name>
    <message>
        <source>The modem&apos;s port is not open.</source>
        <translation>Der Port des Modems ist nicht geöffnet.</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Abgebrochen.</translation>
    </message>
    <message>
        <source>No AT answer on %1: it is not the modem&apos;s AT port (a board may have several ports), or the modem&apos;s firmware has no AT host (such as Nordic&apos;s at_client sample).</source>
        <translation>Keine AT-Antwort auf %1: Das ist nicht der AT-Port des Modems (ein Board kann mehrere Ports haben), oder die Firmware des Modems hat keinen AT-Host (etwa das Beispiel at_client von Nordic).</translation>
    </message>
    <message>
        <source>The connection to the modem was closed.</source>
        <translation>Die Verbindung zum Modem wurde geschlossen.</translation>
    </message>
    <message>
        <source>Reading the modem&apos;s identity</source>
        <translation>Lesen der Identität des Modems</translation>
    </message>
    <message>
        <source>Reading the modem UUID</source>
        <translation>Lesen der Modem-UUID</translation>
    </message>
    <message>
        <source>The modem&apos;s answers came out of order.</source>
        <translation>Die Antworten des Modems kamen in falscher Reihenfolge.</translation>
    </message>
    <message>
        <source>Reading the modem&apos;s functional mode</source>
        <translation>Lesen des Funktionsmodus des Modems</translation>
    </message>
    <message>
        <source>The modem&apos;s answer to AT+CFUN? makes no sense: &quot;%1&quot;.</source>
        <translation>Die Antwort des Modems auf AT+CFUN? ergibt keinen Sinn: „%1“.</translation>
    </message>
    <message>
        <source>Switching the modem to functional mode %1</source>
        <translation>Umschalten des Modems in Funktionsmodus %1</translation>
    </message>
    <message>
        <source>The modem answered AT+CGSN without an IMEI. Check that the port is the modem&apos;s AT port and read the identity again.</source>
        <translation>Das Modem hat auf AT+CGSN ohne IMEI geantwortet. Prüfen Sie, ob der Port der AT-Port des Modems ist, und lesen Sie die Identität erneut.</translation>
    </message>
    <message>
        <source>The modem&apos;s answer to AT+CGSN is not one IMEI (15 digits): &quot;%1&quot;. Check that the port is the modem&apos;s AT port and read the identity again.</source>
        <translation>Die Antwort des Modems auf AT+CGSN ist keine einzelne IMEI (15 Ziffern): „%1“. Prüfen Sie, ob der Port der AT-Port des Modems ist, und lesen Sie die Identität erneut.</translation>
    </message>
    <message>
        <source>The modem&apos;s answer to AT+CGSN, %1, is not an IMEI: its check digit is wrong. Check that the port is the modem&apos;s AT port and read the identity again.</source>
        <translation>Die Antwort des Modems auf AT+CGSN, %1, ist keine IMEI: Ihre Prüfziffer ist falsch. Prüfen Sie, ob der Port der AT-Port des Modems ist, und lesen Sie die Identität erneut.</translation>
    </message>
    <message>
        <source>%1 answers, but not as an AT host: it is a command shell (&quot;%2&quot;). The firmware on the board has no AT client. Flash Nordic&apos;s AT client sample (nRF Connect SDK, samples/cellular/at_client) with the nRF Connect Programmer, or, if the firmware&apos;s shell has an &quot;at&quot; command, use that shell instead of Onboarder.</source>
        <translation>%1 antwortet, aber nicht als AT-Host: Es ist eine Befehls-Shell („%2“). Die Firmware auf dem Board hat keinen AT-Client. Flashen Sie das AT-Client-Beispiel von Nordic (nRF Connect SDK, samples/cellular/at_client) mit dem nRF Connect Programmer, oder verwenden Sie, falls die Shell der Firmware einen Befehl &quot;at&quot; hat, diese Shell statt Onboarder.</translation>
    </message>
    <message>
        <source>The modem on %1 does not answer any more. Unplug it and plug it in again (or press the board&apos;s reset button), then try again.</source>
        <translation>Das Modem an %1 antwortet nicht mehr. Ziehen Sie es ab und stecken Sie es wieder an (oder drücken Sie die Reset-Taste des Boards), dann versuchen Sie es erneut.</translation>
    </message>
</context>
<context>
    <name>Onboarder::PortFinder</name>
    <message>
        <source>None of the ports %1 answered AT.</source>
        <translation>Keiner der Ports %1 hat auf AT geantwortet.</translation>
    </message>
    <message>
        <source>No nRF91 board was found on USB. Plug it in (and switch it on), or name its port with --port; a port that is no USB device (the simulator&apos;s) can be listed in %1.</source>
        <translation>An USB wurde kein nRF91-Board gefunden. Schließen Sie es an (und schalten Sie es ein) oder nennen Sie seinen Port mit --port; ein Port, der kein USB-Gerät ist (der des Simulators), lässt sich in %1 eintragen.</translation>
    </message>
    <message>
        <source>There are several modems (%1); say which with --port.</source>
        <translation>Es gibt mehrere Modems (%1); geben Sie mit --port an, welches gemeint ist.</translation>
    </message>
    <message>
        <source>given in %1</source>
        <translation>angegeben in %1</translation>
    </message>
</context>
<context>
    <name>Onboarder::ProvisioningJob</name>
    <message>
        <source>Connect to the modem</source>
        <translation>Mit dem Modem verbinden</translation>
    </message>
    <message>
        <source>Read IMEI, model and firmware</source>
        <translation>IMEI, Modell und Firmware lesen</translation>
    </message>
    <message>
        <source>Device id</source>
        <translation>Geräte-ID</translation>
    </message>
    <message>
        <source>Look the device up in the hub</source>
        <translation>Gerät im Hub nachschlagen</translation>
    </message>
    <message>
        <source>Key and certificate</source>
        <translation>Schlüssel und Zertifikat</translation>
    </message>
    <message>
        <source>Register in the hub</source>
        <translation>Im Hub registrieren</translation>
    </message>
    <message>
        <source>Twin tags</source>
        <translation>Twin-Tags</translation>
    </message>
    <message>
        <source>Flash root CAs, certificate and key</source>
        <translation>Stamm-CAs, Zertifikat und Schlüssel flashen</translation>
    </message>
    <message>
        <source>Verify modem and hub</source>
        <translation>Modem und Hub verifizieren</translation>
    </message>
    <message>
        <source>Audit record</source>
        <translation>Prüfeintrag</translation>
    </message>
    <message>
        <source>(no device id yet)</source>
        <translation>(noch keine Geräte-ID)</translation>
    </message>
    <message>
        <source>Hub: not asked; nothing was changed there.</source>
        <translation>Hub: nicht abgefragt; dort wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Hub: no device &quot;%1&quot;; nothing was registered.</source>
        <translation>Hub: kein Gerät „%1“; es wurde nichts registriert.</translation>
    </message>
    <message>
        <source>Hub: device &quot;%1&quot; was registered by this job and stays registered.</source>
        <translation>Hub: Gerät „%1“ wurde von diesem Auftrag registriert und bleibt registriert.</translation>
    </message>
    <message>
        <source>Hub: device &quot;%1&quot; was registered already with these credentials.</source>
        <translation>Hub: Gerät „%1“ war bereits mit diesen Anmeldedaten registriert.</translation>
    </message>
    <message>
        <source>Hub: device &quot;%1&quot; now has the new credentials.</source>
        <translation>Hub: Gerät „%1“ hat jetzt die neuen Anmeldedaten.</translation>
    </message>
    <message>
        <source>Hub: device &quot;%1&quot; exists with other credentials and was left alone.</source>
        <translation>Hub: Gerät „%1“ existiert mit anderen Anmeldedaten und wurde nicht verändert.</translation>
    </message>
    <message>
        <source>Credentials: certificate %1 (SHA-256 thumbprint)%2; private key %3.</source>
        <translation>Anmeldedaten: Zertifikat %1 (SHA-256-Fingerabdruck)%2; privater Schlüssel %3.</translation>
    </message>
    <message>
        <source>, kept from an earlier run</source>
        <translation>, aus einem früheren Lauf übernommen</translation>
    </message>
    <message>
        <source>in the modem only</source>
        <translation>nur im Modem</translation>
    </message>
    <message>
        <source>in the keychain</source>
        <translation>im Schlüsselbund</translation>
    </message>
    <message>
        <source>Credentials: none made.</source>
        <translation>Anmeldedaten: keine erzeugt.</translation>
    </message>
    <message>
        <source>Modem: a new key was made in security tag %1; nothing was flashed.</source>
        <translation>Modem: Im Sicherheits-Tag %1 wurde ein neuer Schlüssel erzeugt; es wurde nichts geflasht.</translation>
    </message>
    <message>
        <source>Modem: nothing was written.</source>
        <translation>Modem: Es wurde nichts geschrieben.</translation>
    </message>
    <message>
        <source>Modem: tag %1 type %2 (%3): %4.</source>
        <translation>Modem: Tag %1, Typ %2 (%3): %4.</translation>
    </message>
    <message>
        <source>Modem: may still be offline (it was in functional mode %1).</source>
        <translation>Modem: ist möglicherweise noch offline (es war im Funktionsmodus %1).</translation>
    </message>
    <message>
        <source>Cancelled before this step.</source>
        <translation>Vor diesem Schritt abgebrochen.</translation>
    </message>
    <message>
        <source>%1 answers AT commands.</source>
        <translation>%1 antwortet auf AT-Befehle.</translation>
    </message>
    <message>
        <source>IMEI %1, %2, firmware %3</source>
        <translation>IMEI %1, %2, Firmware %3</translation>
    </message>
    <message>
        <source>The hub connection was closed.</source>
        <translation>Die Verbindung zum Hub wurde geschlossen.</translation>
    </message>
    <message>
        <source>Registered already (%1, %2).</source>
        <translation>Bereits registriert (%1, %2).</translation>
    </message>
    <message>
        <source>Not registered yet.</source>
        <translation>Noch nicht registriert.</translation>
    </message>
    <message>
        <source>The hub already has a device &quot;%1&quot; %2. Nothing was changed. Replace its credentials with the ones made here, or give this modem another device id.</source>
        <translation>Der Hub hat bereits ein Gerät „%1“ %2. Es wurde nichts geändert. Ersetzen Sie dessen Anmeldedaten durch die hier erzeugten oder geben Sie diesem Modem eine andere Geräte-ID.</translation>
    </message>
    <message>
        <source>with %1 authentication, not %2</source>
        <translation>mit %1-Authentifizierung statt %2</translation>
    </message>
    <message>
        <source>whose thumbprint %1 is not the certificate&apos;s kept here</source>
        <translation>dessen Fingerabdruck %1 nicht zum hier verwahrten Zertifikat gehört</translation>
    </message>
    <message>
        <source>The hub already has a device &quot;%1&quot; (%2 authentication), but this computer holds no usable credential for it. Nothing was changed. Replace its credentials with new ones made here, or give this modem another device id.</source>
        <translation>Der Hub hat bereits ein Gerät „%1“ (%2-Authentifizierung), aber dieser Computer besitzt keine verwendbaren Anmeldedaten dafür. Es wurde nichts geändert. Ersetzen Sie dessen Anmeldedaten durch hier neu erzeugte oder geben Sie diesem Modem eine andere Geräte-ID.</translation>
    </message>
    <message>
        <source>Making an EC P-256 key and certificate</source>
        <translation>EC-P-256-Schlüssel und Zertifikat werden erzeugt</translation>
    </message>
    <message>
        <source>The modem makes its key (%KEYGEN)</source>
        <translation>Das Modem erzeugt seinen Schlüssel (%KEYGEN)</translation>
    </message>
    <message>
        <source>Signing the modem&apos;s request with CA &quot;%1&quot;</source>
        <translation>Anforderung des Modems wird mit CA „%1“ signiert</translation>
    </message>
    <message>
        <source>The modem lists no hash for the key it made in security tag %1 (firmware before 1.3.2?); its key cannot be tracked.</source>
        <translation>Das Modem nennt keinen Hash für den Schlüssel, den es im Sicherheits-Tag %1 erzeugt hat (Firmware vor 1.3.2?); sein Schlüssel kann nicht nachverfolgt werden.</translation>
    </message>
    <message>
        <source>Kept from an earlier run</source>
        <translation>Aus einem früheren Lauf übernommen</translation>
    </message>
    <message>
        <source>Made now</source>
        <translation>Neu erzeugt</translation>
    </message>
    <message>
        <source>key in the modem</source>
        <translation>Schlüssel im Modem</translation>
    </message>
    <message>
        <source>key in the keychain</source>
        <translation>Schlüssel im Schlüsselbund</translation>
    </message>
    <message>
        <source>%1: certificate %2…, %3.</source>
        <translation>%1: Zertifikat %2…, %3.</translation>
    </message>
    <message>
        <source>Registered already with this certificate.</source>
        <translation>Bereits mit diesem Zertifikat registriert.</translation>
    </message>
    <message>
        <source>The existing device now has the new credentials.</source>
        <translation>Das vorhandene Gerät hat jetzt die neuen Anmeldedaten.</translation>
    </message>
    <message>
        <source>Registered with thumbprint %1…</source>
        <translation>Registriert mit Fingerabdruck %1…</translation>
    </message>
    <message>
        <source>Registered as signed by a CA.</source>
        <translation>Als von einer CA signiert registriert.</translation>
    </message>
    <message>
        <source>The profile sets none.</source>
        <translation>Das Profil legt keine fest.</translation>
    </message>
    <message>
        <source>%1 (%2/%3)</source>
        <translation>%1 (%2/%3)</translation>
    </message>
    <message>
        <source>%1 credentials on the modem, each verified by SHA-256; functional mode %2 restored.</source>
        <translation>%1 Einträge mit Anmeldedaten auf dem Modem, jeweils per SHA-256 verifiziert; Funktionsmodus %2 wiederhergestellt.</translation>
    </message>
    <message>
        <source>The modem&apos;s %1 in security tag %2 is not what was flashed (SHA-256 %3, expected %4).</source>
        <translation>Im Sicherheits-Tag %2 des Modems entspricht %1 nicht dem, was geflasht wurde (SHA-256 %3, erwartet %4).</translation>
    </message>
    <message>
        <source>Note: the device is %1 in the hub.</source>
        <translation>Hinweis: Das Gerät ist im Hub %1.</translation>
    </message>
    <message>
        <source>The hub&apos;s device &quot;%1&quot; does not take the certificate on the modem (%2).</source>
        <translation>Das Gerät „%1“ im Hub akzeptiert das Zertifikat auf dem Modem nicht (%2).</translation>
    </message>
    <message>
        <source>%1 hashes match on the modem; the hub takes certificate %2….</source>
        <translation>%1 Hashes auf dem Modem stimmen überein; der Hub akzeptiert Zertifikat %2….</translation>
    </message>
    <message>
        <source>Look the enrollment up in DPS</source>
        <translation>Registrierungseintrag im DPS nachschlagen</translation>
    </message>
    <message>
        <source>Enroll in DPS</source>
        <translation>Im DPS eintragen</translation>
    </message>
    <message>
        <source>Test registration through DPS</source>
        <translation>Testregistrierung über den DPS</translation>
    </message>
    <message>
        <source>DPS: not asked; nothing was changed there.</source>
        <translation>DPS: nicht abgefragt; dort wurde nichts geändert.</translation>
    </message>
    <message>
        <source>DPS: no enrollment &quot;%1&quot;; nothing was enrolled.</source>
        <translation>DPS: kein Registrierungseintrag „%1“; es wurde nichts eingetragen.</translation>
    </message>
    <message>
        <source>DPS: enrollment &quot;%1&quot; was made by this job and stays.</source>
        <translation>DPS: Registrierungseintrag „%1“ wurde von diesem Auftrag angelegt und bleibt bestehen.</translation>
    </message>
    <message>
        <source>DPS: &quot;%1&quot; was enrolled already with these credentials.</source>
        <translation>DPS: „%1“ war bereits mit diesen Anmeldedaten eingetragen.</translation>
    </message>
    <message>
        <source>DPS: enrollment &quot;%1&quot; now has the new certificate.</source>
        <translation>DPS: Registrierungseintrag „%1“ hat jetzt das neue Zertifikat.</translation>
    </message>
    <message>
        <source>DPS: enrollment &quot;%1&quot; exists with other credentials and was left alone.</source>
        <translation>DPS: Registrierungseintrag „%1“ existiert mit anderen Anmeldedaten und wurde nicht verändert.</translation>
    </message>
    <message>
        <source>DPS: &quot;%1&quot; belongs to enrollment group &quot;%2&quot;; nothing was changed there.</source>
        <translation>DPS: „%1“ gehört zur Registrierungsgruppe „%2“; dort wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Hub: DPS makes the device when it first registers; not registered from the bench.</source>
        <translation>Hub: Der DPS legt das Gerät bei dessen erster Registrierung an; nicht von der Station aus registriert.</translation>
    </message>
    <message>
        <source>The profile provisions through DPS &quot;%1&quot;, which is not known here (onboarder-cli dps add).</source>
        <translation>Das Profil provisioniert über den DPS „%1“, der hier nicht bekannt ist (onboarder-cli dps add).</translation>
    </message>
    <message>
        <source>%1 (also its registration id in DPS)</source>
        <translation>%1 (auch seine Registrierungs-ID im DPS)</translation>
    </message>
    <message>
        <source>DPS %1 already has an individual enrollment &quot;%2&quot;, but this computer holds no usable credential for it. Nothing was changed. Replace its certificate with a new one made here, or give this modem another device id.</source>
        <translation>DPS %1 hat bereits eine Einzelregistrierung „%2“, aber dieser Computer besitzt keine verwendbaren Anmeldedaten dafür. Es wurde nichts geändert. Ersetzen Sie deren Zertifikat durch ein hier neu erzeugtes oder geben Sie diesem Modem eine andere Geräte-ID.</translation>
    </message>
    <message>
        <source>%1 hashes match on the modem.</source>
        <translation>%1 Hashes auf dem Modem stimmen überein.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; cannot be a DPS registration id: DPS takes lower-case letters, digits, &apos;-&apos;, &apos;.&apos;, &apos;_&apos; and &apos;:&apos;, at most 128. Change the profile&apos;s device id template.</source>
        <translation>„%1“ kann keine Registrierungs-ID im DPS sein: Der DPS akzeptiert Kleinbuchstaben, Ziffern, &apos;-&apos;, &apos;.&apos;, &apos;_&apos; und &apos;:&apos;, höchstens 128 Zeichen. Ändern Sie die Geräte-ID-Vorlage des Profils.</translation>
    </message>
    <message>
        <source>The DPS connection was closed.</source>
        <translation>Die Verbindung zum DPS wurde geschlossen.</translation>
    </message>
    <message>
        <source>The keychain holds no CA &quot;%1&quot; (onboarder-cli cred import-ca).</source>
        <translation>Der Schlüsselbund enthält keine CA „%1“ (onboarder-cli cred import-ca).</translation>
    </message>
    <message>
        <source>DPS %1 has no enrollment group &quot;%2&quot;. Nothing was changed. Create it with the CA &quot;%3&quot; (onboarder-cli dps group create %2 --ca %3) or correct the profile.</source>
        <translation>DPS %1 hat keine Registrierungsgruppe „%2“. Es wurde nichts geändert. Erstellen Sie sie mit der CA „%3“ (onboarder-cli dps group create %2 --ca %3) oder korrigieren Sie das Profil.</translation>
    </message>
    <message>
        <source>Enrollment group &quot;%1&quot; does not admit devices by a CA certificate (its attestation is %2). Nothing was changed.</source>
        <translation>Die Registrierungsgruppe „%1“ lässt Geräte nicht über ein CA-Zertifikat zu (ihr Nachweis ist %2). Es wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Enrollment group &quot;%1&quot; admits devices signed by the CA with SHA-256 thumbprint %2, not by the profile&apos;s CA &quot;%3&quot; (%4): DPS would refuse these devices. Nothing was changed.</source>
        <translation>Die Registrierungsgruppe „%1“ lässt Geräte zu, die von der CA mit dem SHA-256-Fingerabdruck %2 signiert sind, nicht von der CA „%3“ des Profils (%4): Der DPS würde diese Geräte ablehnen. Es wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Enrollment group &quot;%1&quot; is disabled in DPS: its devices are refused. Nothing was changed.</source>
        <translation>Die Registrierungsgruppe „%1“ ist im DPS deaktiviert: Ihre Geräte werden abgelehnt. Es wurde nichts geändert.</translation>
    </message>
    <message>
        <source>Group &quot;%1&quot; admits devices signed by CA &quot;%2&quot;.</source>
        <translation>Die Gruppe „%1“ lässt von der CA „%2“ signierte Geräte zu.</translation>
    </message>
    <message>
        <source>Enrolled already (%1, %2).</source>
        <translation>Bereits eingetragen (%1, %2).</translation>
    </message>
    <message>
        <source>Not enrolled yet.</source>
        <translation>Noch nicht eingetragen.</translation>
    </message>
    <message>
        <source>DPS %1 already has an enrollment &quot;%2&quot; with %3 attestation. Nothing was changed. Replace it with this certificate, or give this modem another device id.</source>
        <translation>DPS %1 hat bereits einen Registrierungseintrag „%2“ mit dem Nachweis %3. Es wurde nichts geändert. Ersetzen Sie ihn durch einen mit diesem Zertifikat oder geben Sie diesem Modem eine andere Geräte-ID.</translation>
    </message>
    <message>
        <source>DPS %1 already has an enrollment &quot;%2&quot; with another certificate (%3). Nothing was changed. Replace it with this certificate, or give this modem another device id.</source>
        <translation>DPS %1 hat bereits einen Registrierungseintrag „%2“ mit einem anderen Zertifikat (%3). Es wurde nichts geändert. Ersetzen Sie es durch dieses Zertifikat oder geben Sie diesem Modem eine andere Geräte-ID.</translation>
    </message>
    <message>
        <source>The device certificate is not signed by the CA of enrollment group &quot;%1&quot;.</source>
        <translation>Das Gerätezertifikat ist nicht von der CA der Registrierungsgruppe „%1“ signiert.</translation>
    </message>
    <message>
        <source>A member of group &quot;%1&quot;: its CA signed the certificate.</source>
        <translation>Mitglied der Gruppe „%1“: Deren CA hat das Zertifikat signiert.</translation>
    </message>
    <message>
        <source>Enrolled already with this certificate.</source>
        <translation>Bereits mit diesem Zertifikat eingetragen.</translation>
    </message>
    <message>
        <source>Enrolled already with this certificate (disabled in DPS).</source>
        <translation>Bereits mit diesem Zertifikat eingetragen (im DPS deaktiviert).</translation>
    </message>
    <message>
        <source>The enrollment now has certificate %1….</source>
        <translation>Der Registrierungseintrag hat jetzt das Zertifikat %1….</translation>
    </message>
    <message>
        <source>Enrolled with certificate %1….</source>
        <translation>Eingetragen mit Zertifikat %1….</translation>
    </message>
    <message>
        <source>Not asked: the device registers when it first connects.</source>
        <translation>Nicht abgefragt: Das Gerät registriert sich bei seiner ersten Verbindung.</translation>
    </message>
    <message>
        <source>Registering &quot;%1&quot; with DPS %2 from this computer</source>
        <translation>„%1“ wird von diesem Computer aus bei DPS %2 registriert</translation>
    </message>
    <message>
        <source>DPS assigned &quot;%1&quot; to hub %2, not to the profile&apos;s hub %3 (%4). The device is enrolled and flashed; check the enrollment&apos;s hubs in DPS, or make the profile name the hub DPS assigns to.</source>
        <translation>Der DPS hat „%1“ dem Hub %2 zugewiesen, nicht dem Hub %3 des Profils (%4). Das Gerät ist eingetragen und geflasht; prüfen Sie die Hubs des Registrierungseintrags im DPS oder tragen Sie im Profil den Hub ein, dem der DPS zuweist.</translation>
    </message>
    <message>
        <source>DPS assigned the registration &quot;%1&quot; the hub device id &quot;%2&quot;, not &quot;%3&quot;.</source>
        <translation>Der DPS hat der Registrierung „%1“ die Geräte-ID „%2“ im Hub zugewiesen, nicht „%3“.</translation>
    </message>
    <message>
        <source>DPS registered &quot;%1&quot;, but the hub&apos;s device does not take the certificate on the modem (%2 authentication, thumbprint %3).</source>
        <translation>Der DPS hat „%1“ registriert, aber das Gerät im Hub akzeptiert das Zertifikat auf dem Modem nicht (%2-Authentifizierung, Fingerabdruck %3).</translation>
    </message>
    <message>
        <source>Assigned to %1 as &quot;%2&quot; (%3); the hub takes certificate %4….</source>
        <translation>%1 als „%2“ zugewiesen (%3); der Hub akzeptiert Zertifikat %4….</translation>
    </message>
    <message>
        <source>the certificate of %1 flashed in this job</source>
        <translation>das in diesem Auftrag geflashte Zertifikat von %1</translation>
    </message>
</context>
<context>
    <name>Onboarder::Relay</name>
    <message>
        <source>Cannot read the local broker&apos;s password file %1: %2.</source>
        <translation>Die Passwortdatei %1 des lokalen Brokers ist nicht lesbar: %2.</translation>
    </message>
    <message>
        <source>The outbox is full (%1 messages): new messages stay with the local broker until the hub takes some.</source>
        <translation>Der Postausgang ist voll (%1 Nachrichten): Neue Nachrichten bleiben beim lokalen Broker, bis der Hub welche abnimmt.</translation>
    </message>
    <message>
        <source>the local broker %1:%2</source>
        <translation>dem lokalen Broker %1:%2</translation>
    </message>
    <message>
        <source>A message of %1 bytes for %2 is larger than the %3 bytes IoT Hub takes in one message.</source>
        <translation>Eine Nachricht von %1 Bytes für %2 ist größer als die %3 Bytes, die IoT Hub in einer Nachricht annimmt.</translation>
    </message>
    <message>
        <source>The hub closes the session of %1 whenever it sends a message (%2 in a row); its messages stay in the outbox.</source>
        <translation>Der Hub schließt die Sitzung von %1 bei jeder Nachricht, die es sendet (%2 in Folge); seine Nachrichten bleiben im Postausgang.</translation>
    </message>
    <message>
        <source>The hub closed the session of %1 each of the %2 times this message was sent, and took the next one.</source>
        <translation>Der Hub hat die Sitzung von %1 bei jedem der %2 Sendeversuche dieser Nachricht geschlossen und die nächste angenommen.</translation>
    </message>
</context>
<context>
    <name>Onboarder::RelayCharts</name>
    <message>
        <source>Messages per second</source>
        <translation>Nachrichten pro Sekunde</translation>
    </message>
    <message>
        <source>in</source>
        <translation>ein</translation>
    </message>
    <message>
        <source>out</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Outbox depth</source>
        <translation>Füllstand des Postausgangs</translation>
    </message>
    <message>
        <source>messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <source>Latency, ms</source>
        <translation>Latenz, ms</translation>
    </message>
    <message>
        <source>p50</source>
        <translation>p50</translation>
    </message>
    <message>
        <source>p99</source>
        <translation>p99</translation>
    </message>
</context>
<context>
    <name>Onboarder::RelayCredentials</name>
    <message>
        <source>The relay has no keychain access for X.509 devices.</source>
        <translation>Das Relay hat keinen Zugriff auf den Schlüsselbund für X.509-Geräte.</translation>
    </message>
    <message>
        <source>The device %1 does not use SAS keys; set &quot;deviceAuth&quot;: &quot;x509&quot; for certificate devices.</source>
        <translation>Das Gerät %1 verwendet keine SAS-Schlüssel; setzen Sie &quot;deviceAuth&quot;: &quot;x509&quot; für Geräte mit Zertifikat.</translation>
    </message>
    <message>
        <source>The hub has the device %1 (%2 authentication), but no certificate and key are kept here for it: the relay cannot speak for it. Import its credential (onboarder-cli cred import) or delete the device to let the relay register it anew.</source>
        <translation>Der Hub hat das Gerät %1 (Authentifizierung %2), aber hier werden weder Zertifikat noch Schlüssel dafür aufbewahrt: Das Relay kann nicht für es sprechen. Importieren Sie seine Anmeldedaten (onboarder-cli cred import) oder löschen Sie das Gerät, damit das Relay es neu registriert.</translation>
    </message>
    <message>
        <source>The hub has the device %1 with %2 authentication that does not take the certificate kept here (%3…); nothing was changed.</source>
        <translation>Der Hub hat das Gerät %1 mit Authentifizierung %2, die das hier aufbewahrte Zertifikat (%3…) nicht annimmt; nichts wurde geändert.</translation>
    </message>
</context>
<context>
    <name>Onboarder::RelayPage</name>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>Starten</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stoppen</translation>
    </message>
    <message>
        <source>Relay</source>
        <translation>Relay</translation>
    </message>
    <message>
        <source>Forwards what local sensors publish to a local MQTT broker to the hub, each sensor as its own device, without losing a message when the network or a broker fails.</source>
        <translation>Leitet weiter, was lokale Sensoren an einen lokalen MQTT-Broker senden, an den Hub – jeden Sensor als eigenes Gerät, ohne eine Nachricht zu verlieren, wenn das Netz oder ein Broker ausfällt.</translation>
    </message>
    <message>
        <source>relay configuration (JSON)</source>
        <translation>Relay-Konfiguration (JSON)</translation>
    </message>
    <message>
        <source>Configuration file</source>
        <translation>Konfigurationsdatei</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>Öffnen…</translation>
    </message>
    <message>
        <source>Configuration:</source>
        <translation>Konfiguration:</translation>
    </message>
    <message>
        <source>Relay configuration</source>
        <translation>Relay-Konfiguration</translation>
    </message>
    <message>
        <source>{ &quot;hub&quot;: &quot;sandbox&quot;, &quot;source&quot;: { &quot;url&quot;: &quot;mqtt://127.0.0.1:1883&quot;, &quot;topics&quot;: [&quot;sensors/+/telemetry&quot;] }, &quot;deviceIdFromTopic&quot;: &quot;sensors/{deviceId}/telemetry&quot; }</source>
        <translation>{ &quot;hub&quot;: &quot;sandbox&quot;, &quot;source&quot;: { &quot;url&quot;: &quot;mqtt://127.0.0.1:1883&quot;, &quot;topics&quot;: [&quot;sensors/+/telemetry&quot;] }, &quot;deviceIdFromTopic&quot;: &quot;sensors/{deviceId}/telemetry&quot; }</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Last Message</source>
        <translation>Letzte Nachricht</translation>
    </message>
    <message>
        <source>In</source>
        <translation>Ein</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>Aus</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Wartend</translation>
    </message>
    <message>
        <source>Last Payload</source>
        <translation>Letzte Nutzlast</translation>
    </message>
    <message>
        <source>Relayed devices</source>
        <translation>Weitergeleitete Geräte</translation>
    </message>
    <message>
        <source>Relay Configuration</source>
        <translation>Relay-Konfiguration</translation>
    </message>
    <message>
        <source>JSON files (*.json);;All files (*)</source>
        <translation>JSON-Dateien (*.json);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 ist nicht lesbar: %2</translation>
    </message>
    <message>
        <source>There is no hub named &quot;%1&quot; here; add it on the Hubs page.</source>
        <translation>Hier gibt es keinen Hub namens „%1“; fügen Sie ihn auf der Seite „Hubs“ hinzu.</translation>
    </message>
    <message>
        <source>Choose the file to save the configuration in.</source>
        <translation>Wählen Sie die Datei, in der die Konfiguration gespeichert werden soll.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Saved %1.</source>
        <translation>%1 gespeichert.</translation>
    </message>
    <message>
        <source>Starting: reading the hub&apos;s key and the broker&apos;s password from the keychain…</source>
        <translation>Starte: lese den Schlüssel des Hubs und das Passwort des Brokers aus dem Schlüsselbund…</translation>
    </message>
    <message>
        <source>Stopped. What the relay had taken is in its outbox; the local broker keeps the rest for the next start.</source>
        <translation>Gestoppt. Was das Relay übernommen hatte, liegt in seinem Postausgang; den Rest behält der lokale Broker für den nächsten Start.</translation>
    </message>
    <message>
        <source>Running.</source>
        <translation>Läuft.</translation>
    </message>
    <message>
        <source>Stopping: waiting for the hub to acknowledge what is in flight…</source>
        <translation>Stoppe: warte, bis der Hub bestätigt, was unterwegs ist…</translation>
    </message>
    <message>
        <source>Broker %1 · %2 in, %3 delivered · %4 msg/s in, %5 msg/s out · outbox %6 of %7 · %8 hub sessions · latency p50 %9 ms</source>
        <translation>Broker %1 · %2 empfangen, %3 zugestellt · %4 Nachr./s ein, %5 Nachr./s aus · Postausgang %6 von %7 · %8 Hub-Sitzungen · Latenz p50 %9 ms</translation>
    </message>
    <message>
        <source> · the outbox is full: %1 messages are held at the broker until the hub takes some</source>
        <translation> · der Postausgang ist voll: %1 Nachrichten bleiben beim Broker, bis der Hub welche abnimmt</translation>
    </message>
    <message>
        <source>At Hub</source>
        <translation>Am Hub</translation>
    </message>
    <message>
        <source>Last at Hub</source>
        <translation>Zuletzt am Hub</translation>
    </message>
    <message>
        <source>Messages the hub received from the device since the relay started</source>
        <translation>Nachrichten, die der Hub seit dem Start des Relays von dem Gerät empfangen hat</translation>
    </message>
    <message>
        <source>When the hub received the device&apos;s last message</source>
        <translation>Wann der Hub die letzte Nachricht des Geräts empfangen hat</translation>
    </message>
    <message>
        <source>Messages the hub acknowledged to the relay</source>
        <translation>Nachrichten, deren Empfang der Hub dem Relay bestätigt hat</translation>
    </message>
    <message>
        <source>Last message sent</source>
        <translation>Zuletzt gesendete Nachricht</translation>
    </message>
    <message>
        <source>Last message received by the hub</source>
        <translation>Zuletzt vom Hub empfangene Nachricht</translation>
    </message>
    <message>
        <source>Select a device to compare its last message with what the hub received.</source>
        <translation>Wählen Sie ein Gerät, um seine letzte Nachricht mit dem zu vergleichen, was der Hub empfangen hat.</translation>
    </message>
    <message>
        <source>Sent by the relay</source>
        <translation>Vom Relay gesendet</translation>
    </message>
    <message>
        <source>Received by the hub</source>
        <translation>Vom Hub empfangen</translation>
    </message>
    <message>
        <source>%1 sent · %2 received by the hub</source>
        <translation>%1 gesendet · %2 vom Hub empfangen</translation>
    </message>
    <message>
        <source>Sent: %1
Received by the hub: %2</source>
        <translation>Gesendet: %1
Vom Hub empfangen: %2</translation>
    </message>
    <message>
        <source>%1: nothing sent yet.</source>
        <translation>%1: noch nichts gesendet.</translation>
    </message>
    <message>
        <source>%1 · taken from the local broker at %2</source>
        <translation>%1 · um %2 vom lokalen Broker übernommen</translation>
    </message>
    <message>
        <source>%1: nothing received by the hub yet.</source>
        <translation>%1: Der Hub hat noch nichts empfangen.</translation>
    </message>
    <message>
        <source>%1 · received at %2 · %3 received in all</source>
        <translation>%1 · um %2 empfangen · insgesamt %3 empfangen</translation>
    </message>
    <message>
        <source>Properties:</source>
        <translation>Eigenschaften:</translation>
    </message>
    <message>
        <source>The selected device&apos;s last message as the hub received it, with its properties.</source>
        <translation>Die letzte Nachricht des ausgewählten Geräts, wie der Hub sie empfangen hat, mit ihren Eigenschaften.</translation>
    </message>
    <message>
        <source>The relay counts what the hub acknowledged once per metrics interval; the hub&apos;s side is counted as it arrives, so it may be ahead by what was in flight.</source>
        <translation>Das Relay zählt, was der Hub bestätigt hat, einmal je Messintervall; die Seite des Hubs wird beim Eintreffen gezählt und kann daher um das voraus sein, was gerade unterwegs war.</translation>
    </message>
    <message>
        <source>resolving</source>
        <translation>Zugangsdaten werden geholt</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>verbindet</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>verbunden</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>wartet</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>untätig</translation>
    </message>
    <message>
        <source>subscribed</source>
        <translation>abonniert</translation>
    </message>
    <message>
        <source>disconnected</source>
        <translation>getrennt</translation>
    </message>
    <message>
        <source> · %1 set aside that the hub can never take (onboarder-cli relay dead-letters)</source>
        <translation> · %1 zurückgestellt, die der Hub nie annehmen kann (onboarder-cli relay dead-letters)</translation>
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
    <name>Onboarder::SerialLink</name>
    <message>
        <source>The connection to the modem on %1 was lost (%2). Was it unplugged or reset?</source>
        <translation>Die Verbindung zum Modem an %1 ist abgebrochen (%2). Wurde es abgesteckt oder zurückgesetzt?</translation>
    </message>
</context>
<context>
    <name>Onboarder::Settings</name>
    <message>
        <source>the file is read-only</source>
        <translation>die Datei ist schreibgeschützt</translation>
    </message>
    <message>
        <source>The settings file %1 cannot be written. The change was not saved.</source>
        <translation>Die Einstellungsdatei %1 kann nicht geschrieben werden. Die Änderung wurde nicht gespeichert.</translation>
    </message>
    <message>
        <source>The settings file %1 cannot be written: %2. The change was not saved.</source>
        <translation>Die Einstellungsdatei %1 kann nicht geschrieben werden: %2. Die Änderung wurde nicht gespeichert.</translation>
    </message>
</context>
<context>
    <name>Onboarder::StationCard</name>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>Erneut versuchen</translation>
    </message>
    <message>
        <source>Replace and Retry</source>
        <translation>Ersetzen und erneut versuchen</translation>
    </message>
    <message>
        <source>Modem on %1</source>
        <translation>Modem an %1</translation>
    </message>
    <message>
        <source>The hub has a device of this id with other credentials: give it the ones made here.</source>
        <translation>Der Hub hat ein Gerät mit dieser ID und anderen Anmeldedaten: Weisen Sie ihm die hier erzeugten zu.</translation>
    </message>
    <message>
        <source>Waiting to start</source>
        <translation>Wartet auf Start</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Wartet</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>Läuft</translation>
    </message>
    <message>
        <source>Passed</source>
        <translation>Bestanden</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>Unplugged</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>IMEI %1 · %2 · %3
Device %4</source>
        <translation>IMEI %1 · %2 · %3
Gerät %4</translation>
    </message>
    <message>
        <source>Done in %1 s</source>
        <translation>Fertig in %1 s</translation>
    </message>
    <message>
        <source>%1 in hub %2 (%3)
Certificate %4…
Modem: %5 credentials verified in tag %6</source>
        <translation>%1 in Hub %2 (%3)
Zertifikat %4…
Modem: %5 Einträge mit Anmeldedaten in Tag %6 verifiziert</translation>
    </message>
    <message>
        <source>Stopped at: %1</source>
        <translation>Angehalten bei: %1</translation>
    </message>
    <message>
        <source>%1 enrolled in DPS %2 (%3)
%4
Certificate %5…
Modem: %6 credentials verified in tag %7</source>
        <translation>%1 in DPS %2 eingetragen (%3)
%4
Zertifikat %5…
Modem: %6 Einträge mit Anmeldedaten in Tag %7 verifiziert</translation>
    </message>
    <message>
        <source>Not registered from the bench</source>
        <translation>Nicht von der Station aus registriert</translation>
    </message>
    <message>
        <source>Registered: hub %1</source>
        <translation>Registriert: Hub %1</translation>
    </message>
    <message>
        <source>DPS has an enrollment of this id with another certificate: give it the one made here.</source>
        <translation>Der DPS hat einen Registrierungseintrag mit dieser ID und einem anderen Zertifikat: Weisen Sie ihm das hier erzeugte zu.</translation>
    </message>
    <message>
        <source>Will it connect? %1</source>
        <translation>Verbindung möglich? %1</translation>
    </message>
    <message>
        <source>Modem check: %1</source>
        <translation>Modemprüfung: %1</translation>
    </message>
    <message>
        <source>The job ended without a result.</source>
        <translation>Der Auftrag endete ohne Ergebnis.</translation>
    </message>
</context>
<context>
    <name>Onboarder::StationPage</name>
    <message>
        <source>Keep the private key in the keychain</source>
        <translation>Privaten Schlüssel im Schlüsselbund aufbewahren</translation>
    </message>
    <message>
        <source>Start when a modem is plugged in</source>
        <translation>Starten, wenn ein Modem angeschlossen wird</translation>
    </message>
    <message>
        <source>Provision All</source>
        <translation>Alle provisionieren</translation>
    </message>
    <message>
        <source>No modem found. Plug in an nRF91 board; it appears here within a second.</source>
        <translation>Kein Modem gefunden. Schließen Sie eine nRF91-Platine an; sie erscheint hier innerhalb einer Sekunde.</translation>
    </message>
    <message>
        <source>Provisioning Station</source>
        <translation>Provisionierungsstation</translation>
    </message>
    <message>
        <source>Modem after modem: register the device, make its key and certificate, flash them with the root CAs, verify every hash, and log what was done.</source>
        <translation>Modem für Modem: Gerät registrieren, Schlüssel und Zertifikat erzeugen, beides mit den Stamm-CAs flashen, jeden Hash verifizieren und alles Erledigte protokollieren.</translation>
    </message>
    <message>
        <source>Hub</source>
        <translation>Hub</translation>
    </message>
    <message>
        <source>Placeholders: {imei}, {imei6} (last six digits), {uuid}, {serial} (USB serial number), {prefix}</source>
        <translation>Platzhalter: {imei}, {imei6} (letzte sechs Ziffern), {uuid}, {serial} (USB-Seriennummer), {prefix}</translation>
    </message>
    <message>
        <source>for {prefix}</source>
        <translation>für {prefix}</translation>
    </message>
    <message>
        <source>X.509 self-signed</source>
        <translation>X.509 selbstsigniert</translation>
    </message>
    <message>
        <source>X.509 signed by a CA (thumbprint in the hub)</source>
        <translation>X.509, von einer CA signiert (Fingerabdruck im Hub)</translation>
    </message>
    <message>
        <source>X.509 signed by a CA (CA-authenticated in the hub)</source>
        <translation>X.509, von einer CA signiert (im Hub über die CA authentifiziert)</translation>
    </message>
    <message>
        <source>CA name in the keychain</source>
        <translation>CA-Name im Schlüsselbund</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>Auf diesem Computer</translation>
    </message>
    <message>
        <source>In the modem (%KEYGEN; the key never leaves it)</source>
        <translation>Im Modem (%KEYGEN; der Schlüssel verlässt es nie)</translation>
    </message>
    <message>
        <source>none (both roots in the primary tag)</source>
        <translation>keines (beide Stammzertifikate im primären Tag)</translation>
    </message>
    <message>
        <source>site=bench-1, batch=7</source>
        <translation>site=bench-1, batch=7</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>Bediener</translation>
    </message>
    <message>
        <source>Hub:</source>
        <translation>Hub:</translation>
    </message>
    <message>
        <source>Device id:</source>
        <translation>Geräte-ID:</translation>
    </message>
    <message>
        <source>Authentication:</source>
        <translation>Authentifizierung:</translation>
    </message>
    <message>
        <source>Key made:</source>
        <translation>Schlüsselerzeugung:</translation>
    </message>
    <message>
        <source>Secondary tag:</source>
        <translation>Sekundäres Tag:</translation>
    </message>
    <message>
        <source>Security tag:</source>
        <translation>Sicherheits-Tag:</translation>
    </message>
    <message>
        <source>Twin tags:</source>
        <translation>Twin-Tags:</translation>
    </message>
    <message>
        <source>Operator:</source>
        <translation>Bediener:</translation>
    </message>
    <message>
        <source>Open Profile…</source>
        <translation>Profil öffnen…</translation>
    </message>
    <message>
        <source>Save Profile…</source>
        <translation>Profil speichern…</translation>
    </message>
    <message>
        <source>Export Audit Log…</source>
        <translation>Prüfprotokoll exportieren…</translation>
    </message>
    <message>
        <source>Add a hub first (Hubs page).</source>
        <translation>Fügen Sie zuerst einen Hub hinzu (Seite „Hubs“).</translation>
    </message>
    <message>
        <source>The hub &quot;%1&quot; is gone.</source>
        <translation>Der Hub „%1“ ist nicht mehr vorhanden.</translation>
    </message>
    <message>
        <source>%1: %2 provisioned.</source>
        <translation>%1: %2 provisioniert.</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Passed %1 · Failed %2 · Running %3</source>
        <translation>Bestanden %1 · Fehlgeschlagen %2 · Laufend %3</translation>
    </message>
    <message>
        <source> · %1 s per modem</source>
        <translation> · %1 s pro Modem</translation>
    </message>
    <message>
        <source>Open Provisioning Profile</source>
        <translation>Provisionierungsprofil öffnen</translation>
    </message>
    <message>
        <source>Provisioning profiles (*.json)</source>
        <translation>Provisionierungsprofile (*.json)</translation>
    </message>
    <message>
        <source>Save Provisioning Profile</source>
        <translation>Provisionierungsprofil speichern</translation>
    </message>
    <message>
        <source>Export Audit Log</source>
        <translation>Prüfprotokoll exportieren</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV-Dateien (*.csv)</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message numerus="yes">
        <source>%n audit record(s) exported to %1.</source>
        <translation>
            <numerusform>%n Prüfeintrag nach %1 exportiert.</numerusform>
            <numerusform>%n Prüfeinträge nach %1 exportiert.</numerusform>
        </translation>
    </message>
    <message>
        <source>Test registration from this computer</source>
        <translation>Testregistrierung von diesem Computer aus</translation>
    </message>
    <message>
        <source>In the hub, by this station</source>
        <translation>Im Hub, durch diese Station</translation>
    </message>
    <message>
        <source>Through DPS (enrolled here, registered by the device)</source>
        <translation>Über den DPS (hier eingetragen, vom Gerät registriert)</translation>
    </message>
    <message>
        <source>DPS</source>
        <translation>DPS</translation>
    </message>
    <message>
        <source>Add a DPS on the Provisioning page</source>
        <translation>Fügen Sie auf der Seite „Bereitstellung“ einen DPS hinzu</translation>
    </message>
    <message>
        <source>Individual enrollment per device</source>
        <translation>Einzelregistrierung pro Gerät</translation>
    </message>
    <message>
        <source>Enrollment group of the CA</source>
        <translation>Registrierungsgruppe der CA</translation>
    </message>
    <message>
        <source>group id in DPS</source>
        <translation>Gruppen-ID im DPS</translation>
    </message>
    <message>
        <source>Enrollment group</source>
        <translation>Registrierungsgruppe</translation>
    </message>
    <message>
        <source>Once flashed, register the device with DPS from here and check the hub device it gets.</source>
        <translation>Nach dem Flashen das Gerät von hier aus beim DPS registrieren und das Hub-Gerät prüfen, das es erhält.</translation>
    </message>
    <message>
        <source>Registration:</source>
        <translation>Registrierung:</translation>
    </message>
    <message>
        <source>Enrollment:</source>
        <translation>Registrierungseintrag:</translation>
    </message>
    <message>
        <source>Add a DPS first (Provisioning page).</source>
        <translation>Fügen Sie zuerst einen DPS hinzu (Seite „Bereitstellung“).</translation>
    </message>
    <message>
        <source>The DPS &quot;%1&quot; is gone.</source>
        <translation>Der DPS „%1“ ist nicht mehr vorhanden.</translation>
    </message>
</context>
<context>
    <name>Onboarder::TelemetryFeed</name>
    <message>
        <source>No hub is current: choose one on the Hubs page.</source>
        <translation>Es gibt keinen aktuellen Hub: Wählen Sie auf der Seite „Hubs“ einen aus.</translation>
    </message>
    <message>
        <source>Connecting to hub %1…</source>
        <translation>Verbindung zu Hub %1 wird aufgebaut…</translation>
    </message>
    <message>
        <source>Connecting again: %1</source>
        <translation>Verbindung wird erneut aufgebaut: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s) received</source>
        <translation>
            <numerusform>%n Nachricht empfangen</numerusform>
            <numerusform>%n Nachrichten empfangen</numerusform>
        </translation>
    </message>
    <message>
        <source> · paused: the list is not updated, the count goes on</source>
        <translation> · pausiert: Die Liste wird nicht aktualisiert, die Zählung läuft weiter</translation>
    </message>
    <message>
        <source> (the list keeps the newest %1)</source>
        <translation> (die Liste behält die neuesten %1)</translation>
    </message>
</context>
<context>
    <name>Onboarder::TelemetryModel</name>
    <message>
        <source>Enqueued</source>
        <translation>Eingereiht</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>Partition · Seq.</source>
        <translation>Partition · Seq.-Nr.</translation>
    </message>
    <message>
        <source>Payload</source>
        <translation>Nutzdaten</translation>
    </message>
</context>
<context>
    <name>Onboarder::TelemetryPage</name>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Pausieren</translation>
    </message>
    <message>
        <source>E&amp;xport…</source>
        <translation>E&amp;xportieren…</translation>
    </message>
    <message>
        <source>All devices</source>
        <translation>Alle Geräte</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <source>Consumer group</source>
        <translation>Consumergruppe</translation>
    </message>
    <message>
        <source>The consumer group of the hub&apos;s Event Hub-compatible endpoint. Readers in one group share what they read; another group reads everything again.</source>
        <translation>Die Consumergruppe des Event-Hub-kompatiblen Endpunkts des Hubs. Leser in derselben Gruppe teilen sich, was sie lesen; eine andere Gruppe liest alles noch einmal.</translation>
    </message>
    <message>
        <source>From now</source>
        <translation>Ab jetzt</translation>
    </message>
    <message>
        <source>From the oldest kept</source>
        <translation>Ab der ältesten aufbewahrten Nachricht</translation>
    </message>
    <message>
        <source>Save the messages in the list (the newest %1) as JSON Lines.</source>
        <translation>Die Nachrichten in der Liste (die neuesten %1) als JSON Lines speichern.</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>Gerät:</translation>
    </message>
    <message>
        <source>Consumer group:</source>
        <translation>Consumergruppe:</translation>
    </message>
    <message>
        <source>Telemetry</source>
        <translation>Telemetrie</translation>
    </message>
    <message>
        <source>What the current hub receives from its devices, as it arrives (its Event Hub-compatible endpoint, as Azure IoT Explorer reads it).</source>
        <translation>Was der aktuelle Hub von seinen Geräten empfängt, sobald es eintrifft (über seinen Event-Hub-kompatiblen Endpunkt, wie ihn Azure IoT Explorer liest).</translation>
    </message>
    <message>
        <source>Export Telemetry</source>
        <translation>Telemetrie exportieren</translation>
    </message>
    <message>
        <source>JSON Lines (*.jsonl)</source>
        <translation>JSON Lines (*.jsonl)</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s) saved to %1.</source>
        <translation>
            <numerusform>%n Nachricht in %1 gespeichert.</numerusform>
            <numerusform>%n Nachrichten in %1 gespeichert.</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>&amp;Stoppen</translation>
    </message>
    <message>
        <source>No hub is current.</source>
        <translation>Es gibt keinen aktuellen Hub.</translation>
    </message>
    <message>
        <source>Not reading. Start reads what hub %1 receives.</source>
        <translation>Es wird nicht gelesen. „Starten“ liest, was Hub %1 empfängt.</translation>
    </message>
    <message>
        <source>Reading what hub %1 receives.</source>
        <translation>Was Hub %1 empfängt, wird gelesen.</translation>
    </message>
</context>
<context>
    <name>Onboarder::TelemetryView</name>
    <message>
        <source>Messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <source>Message details</source>
        <translation>Nachrichtendetails</translation>
    </message>
    <message>
        <source>Select a message to see its payload and properties.</source>
        <translation>Wählen Sie eine Nachricht, um ihre Nutzdaten und Eigenschaften zu sehen.</translation>
    </message>
    <message>
        <source>Device: %1</source>
        <translation>Gerät: %1</translation>
    </message>
    <message>
        <source>Enqueued: %1</source>
        <translation>Eingereiht: %1</translation>
    </message>
    <message>
        <source>Partition %1, sequence number %2, offset %3</source>
        <translation>Partition %1, Sequenznummer %2, Offset %3</translation>
    </message>
    <message>
        <source>Content type: %1 %2</source>
        <translation>Inhaltstyp: %1 %2</translation>
    </message>
    <message>
        <source>Message id: %1</source>
        <translation>Nachrichten-ID: %1</translation>
    </message>
    <message>
        <source>Payload:</source>
        <translation>Nutzdaten:</translation>
    </message>
    <message>
        <source>Application properties:</source>
        <translation>Anwendungseigenschaften:</translation>
    </message>
    <message>
        <source>  (none)</source>
        <translation>  (keine)</translation>
    </message>
    <message>
        <source>System properties:</source>
        <translation>Systemeigenschaften:</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
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
    <message>
        <source>OpenPGP encryption failed: no temporary folder for the recipient&apos;s key: %1</source>
        <translation>OpenPGP-Verschlüsselung fehlgeschlagen: kein temporärer Ordner für den Schlüssel des Empfängers: %1</translation>
    </message>
</context>
<context>
    <name>Outbox</name>
    <message>
        <source>The outbox %1 failed to %2: %3</source>
        <translation>Der Postausgang %1 konnte „%2“ nicht ausführen: %3</translation>
    </message>
    <message>
        <source>Cannot make the folder of the outbox %1.</source>
        <translation>Der Ordner des Postausgangs %1 lässt sich nicht anlegen.</translation>
    </message>
    <message>
        <source>Cannot open the outbox %1: %2</source>
        <translation>Der Postausgang %1 lässt sich nicht öffnen: %2</translation>
    </message>
    <message>
        <source>The outbox holds %1 messages, its limit: new messages stay with the local broker until the hub takes some.</source>
        <translation>Der Postausgang enthält %1 Nachrichten, sein Limit: Neue Nachrichten bleiben beim lokalen Broker, bis der Hub welche abnimmt.</translation>
    </message>
    <message>
        <source>Cannot make the outbox&apos;s lock file %1.</source>
        <translation>Die Sperrdatei %1 des Postausgangs kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>The outbox %1 is in use by another relay (its lock file %2 cannot be read). Stop that relay, or give this configuration another outbox path.</source>
        <translation>Der Postausgang %1 wird von einem anderen Relay benutzt (seine Sperrdatei %2 kann nicht gelesen werden). Beenden Sie dieses Relay, oder geben Sie dieser Konfiguration einen anderen Postausgangspfad.</translation>
    </message>
    <message>
        <source>a program</source>
        <translation>ein Programm</translation>
    </message>
    <message>
        <source>%1 (process %2)</source>
        <translation>%1 (Prozess %2)</translation>
    </message>
    <message>
        <source>%1 (process %2 on %3)</source>
        <translation>%1 (Prozess %2 auf %3)</translation>
    </message>
    <message>
        <source>The outbox %1 is in use by another relay: %2, since %3. Two relays on one outbox would send the same messages and throw each other&apos;s device sessions off the hub. Stop that relay first, or give this configuration another outbox path.</source>
        <translation>Der Postausgang %1 wird von einem anderen Relay benutzt: %2, seit %3. Zwei Relays an einem Postausgang würden dieselben Nachrichten senden und sich gegenseitig die Gerätesitzungen am Hub trennen. Beenden Sie zuerst dieses Relay, oder geben Sie dieser Konfiguration einen anderen Postausgangspfad.</translation>
    </message>
    <message>
        <source>There is no outbox at %1: the relay has not run with this configuration yet.</source>
        <translation>Unter %1 gibt es keinen Postausgang: Das Relay lief mit dieser Konfiguration noch nicht.</translation>
    </message>
    <message>
        <source>The disk of the outbox %1 is full: new messages stay with the local broker until there is room again.</source>
        <translation>Der Datenträger des Postausgangs %1 ist voll: Neue Nachrichten bleiben beim lokalen Broker, bis wieder Platz ist.</translation>
    </message>
    <message>
        <source>The outbox %1 cannot be written (%2): new messages stay with the local broker until it can.</source>
        <translation>In den Postausgang %1 kann nicht geschrieben werden (%2): Neue Nachrichten bleiben beim lokalen Broker, bis es wieder geht.</translation>
    </message>
    <message>
        <source>The outbox holds no message %1 to set aside.</source>
        <translation>Der Postausgang enthält keine Nachricht %1, die zurückgestellt werden könnte.</translation>
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
    <name>PortDiagnosis</name>
    <message>
        <source>There is no serial port %1. Is the modem plugged in and switched on? &quot;onboarder-cli modem list&quot; shows the ports there are.</source>
        <translation>Es gibt keinen seriellen Port %1. Ist das Modem angeschlossen und eingeschaltet? „onboarder-cli modem list“ zeigt die vorhandenen Ports.</translation>
    </message>
    <message>
        <source>You may not open %1: it belongs to the group &quot;%2&quot; and you are not a member. Either install Onboarder&apos;s udev rule (it comes with the package as 70-onboarder-nordic.rules and gives the user at the desk access to Nordic boards), or join the group: sudo usermod -aG %2 $USER, then log out and in again.</source>
        <translation>Sie dürfen %1 nicht öffnen: Der Port gehört der Gruppe „%2“, und Sie sind kein Mitglied. Installieren Sie entweder die udev-Regel von Onboarder (sie liegt dem Paket als 70-onboarder-nordic.rules bei und gibt dem Benutzer am Arbeitsplatz Zugriff auf Nordic-Boards), oder treten Sie der Gruppe bei: sudo usermod -aG %2 $USER, danach ab- und wieder anmelden.</translation>
    </message>
    <message>
        <source>You may not open %1 (mode %2, group &quot;%3&quot;): %4</source>
        <translation>Sie dürfen %1 nicht öffnen (Modus %2, Gruppe „%3“): %4</translation>
    </message>
    <message>
        <source>%1 (process %2)</source>
        <translation>%1 (Prozess %2)</translation>
    </message>
    <message>
        <source>%1 is in use by another program (a terminal such as minicom or screen, nRF Connect, or another Onboarder). Close it and try again.</source>
        <translation>%1 wird von einem anderen Programm verwendet (einem Terminal wie minicom oder screen, nRF Connect oder einem anderen Onboarder). Schließen Sie es und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>%1 is in use by %2. Close it and try again.</source>
        <translation>%1 wird von %2 verwendet. Schließen Sie es und versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>ModemManager runs on this computer and probes new serial ports as modems; Onboarder&apos;s udev rule tells it to leave Nordic boards alone, or stop it while you work: sudo systemctl stop ModemManager.</source>
        <translation>ModemManager läuft auf diesem Computer und testet neue serielle Ports als Modems. Die udev-Regel von Onboarder sorgt dafür, dass er Nordic-Boards in Ruhe lässt; oder beenden Sie ihn, während Sie arbeiten: sudo systemctl stop ModemManager.</translation>
    </message>
    <message>
        <source>Cannot open %1: %2</source>
        <translation>%1 kann nicht geöffnet werden: %2</translation>
    </message>
</context>
<context>
    <name>ProvisioningProfile</name>
    <message>
        <source>&quot;%1&quot; in the provisioning profile must be a whole number from %2 to %3.</source>
        <translation>&quot;%1&quot; im Provisionierungsprofil muss eine ganze Zahl von %2 bis %3 sein.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; in the provisioning profile must be text.</source>
        <translation>&quot;%1&quot; im Provisionierungsprofil muss Text sein.</translation>
    </message>
    <message>
        <source>The provisioning profile has an unknown key &quot;%1&quot;; known keys are %2.</source>
        <translation>Das Provisionierungsprofil enthält den unbekannten JSON-Schlüssel &quot;%1&quot;; bekannte Schlüssel sind %2.</translation>
    </message>
    <message>
        <source>&quot;auth&quot; is &quot;x509-self-signed&quot; or &quot;x509-ca&quot;, not &quot;%1&quot;. (Modems authenticate with X.509 certificates; SAS keys cannot be flashed as credentials.)</source>
        <translation>&quot;auth&quot; muss &quot;x509-self-signed&quot; oder &quot;x509-ca&quot; sein, nicht &quot;%1&quot;. (Modems authentifizieren sich mit X.509-Zertifikaten; SAS-Schlüssel können nicht als Anmeldedaten geflasht werden.)</translation>
    </message>
    <message>
        <source>&quot;keyBirth&quot; is &quot;pc&quot; or &quot;modem&quot;, not &quot;%1&quot;.</source>
        <translation>&quot;keyBirth&quot; muss &quot;pc&quot; oder &quot;modem&quot; sein, nicht &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>&quot;keyType&quot; can only be &quot;ec-p256&quot;: the nRF91 modem&apos;s TLS stack takes EC P-256 keys.</source>
        <translation>&quot;keyType&quot; kann nur &quot;ec-p256&quot; sein: Der TLS-Stack des nRF91-Modems akzeptiert EC-P-256-Schlüssel.</translation>
    </message>
    <message>
        <source>&quot;hubAuth&quot; is &quot;thumbprint&quot; (the hub knows the device by its certificate&apos;s thumbprint) or &quot;ca&quot; (the hub trusts the CA that signed it).</source>
        <translation>&quot;hubAuth&quot; ist entweder &quot;thumbprint&quot; (der Hub erkennt das Gerät am Fingerabdruck seines Zertifikats) oder &quot;ca&quot; (der Hub vertraut der CA, die es signiert hat).</translation>
    </message>
    <message>
        <source>&quot;keepKeyOnPc&quot; must be true or false.</source>
        <translation>&quot;keepKeyOnPc&quot; muss true oder false sein.</translation>
    </message>
    <message>
        <source>&quot;twinTags&quot; must be a JSON object, e.g. {&quot;site&quot;: &quot;bench-1&quot;}.</source>
        <translation>&quot;twinTags&quot; muss ein JSON-Objekt sein, z. B. {&quot;site&quot;: &quot;bench-1&quot;}.</translation>
    </message>
    <message>
        <source>The provisioning profile names no hub (&quot;hub&quot;).</source>
        <translation>Das Provisionierungsprofil nennt keinen Hub (&quot;hub&quot;).</translation>
    </message>
    <message>
        <source>The device id template is empty; e.g. &quot;nrf-{imei}&quot;.</source>
        <translation>Die Geräte-ID-Vorlage ist leer; z. B. &quot;nrf-{imei}&quot;.</translation>
    </message>
    <message>
        <source>The device id template has an unknown placeholder {%1}; use {imei}, {imei6}, {uuid}, {serial} or {prefix}.</source>
        <translation>Die Geräte-ID-Vorlage enthält den unbekannten Platzhalter {%1}; verwenden Sie {imei}, {imei6}, {uuid}, {serial} oder {prefix}.</translation>
    </message>
    <message>
        <source>The device id template uses {prefix}, but the profile gives no &quot;prefix&quot;.</source>
        <translation>Die Geräte-ID-Vorlage verwendet {prefix}, aber das Profil gibt kein &quot;prefix&quot; an.</translation>
    </message>
    <message>
        <source>&quot;auth&quot;: &quot;x509-ca&quot; needs &quot;ca&quot;: the name of a CA imported into the keychain (onboarder-cli cred import-ca).</source>
        <translation>&quot;auth&quot;: &quot;x509-ca&quot; benötigt &quot;ca&quot;: den Namen einer in den Schlüsselbund importierten CA (onboarder-cli cred import-ca).</translation>
    </message>
    <message>
        <source>A key born in the modem needs &quot;auth&quot;: &quot;x509-ca&quot;: only a CA can sign the modem&apos;s certificate request (the key never leaves the modem, so nothing else can sign it).</source>
        <translation>Ein im Modem erzeugter Schlüssel benötigt &quot;auth&quot;: &quot;x509-ca&quot;: Nur eine CA kann die Zertifikatsanforderung des Modems signieren (der Schlüssel verlässt das Modem nie, daher kann sie nichts anderes signieren).</translation>
    </message>
    <message>
        <source>A self-signed device is known to the hub by its thumbprint; &quot;hubAuth&quot;: &quot;ca&quot; needs &quot;auth&quot;: &quot;x509-ca&quot;.</source>
        <translation>Ein selbstsigniertes Gerät ist dem Hub über seinen Fingerabdruck bekannt; &quot;hubAuth&quot;: &quot;ca&quot; benötigt &quot;auth&quot;: &quot;x509-ca&quot;.</translation>
    </message>
    <message>
        <source>&quot;secondarySecTag&quot; must differ from &quot;secTag&quot; (or be null to keep both roots in &quot;secTag&quot;).</source>
        <translation>&quot;secondarySecTag&quot; muss sich von &quot;secTag&quot; unterscheiden (oder null sein, um beide Stammzertifikate in &quot;secTag&quot; zu behalten).</translation>
    </message>
    <message>
        <source>&quot;validityDays&quot; must be at least 1.</source>
        <translation>&quot;validityDays&quot; muss mindestens 1 sein.</translation>
    </message>
    <message>
        <source>Cannot read the provisioning profile %1: %2</source>
        <translation>Das Provisionierungsprofil %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The provisioning profile %1 is not valid JSON: %2 at character %3.</source>
        <translation>Das Provisionierungsprofil %1 ist kein gültiges JSON: %2 bei Zeichen %3.</translation>
    </message>
    <message>
        <source>The provisioning profile %1 must be one JSON object.</source>
        <translation>Das Provisionierungsprofil %1 muss ein einzelnes JSON-Objekt sein.</translation>
    </message>
    <message>
        <source>Cannot write the provisioning profile %1: %2</source>
        <translation>Das Provisionierungsprofil %1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>The device id template uses {%1}, but %2.</source>
        <translation>Die Geräte-ID-Vorlage verwendet {%1}, aber %2.</translation>
    </message>
    <message>
        <source>the modem gave no IMEI</source>
        <translation>das Modem hat keine IMEI geliefert</translation>
    </message>
    <message>
        <source>the modem&apos;s firmware gives no UUID</source>
        <translation>die Firmware des Modems liefert keine UUID</translation>
    </message>
    <message>
        <source>the port is no USB device with a serial number</source>
        <translation>der Port ist kein USB-Gerät mit Seriennummer</translation>
    </message>
    <message>
        <source>the profile gives no prefix</source>
        <translation>das Profil gibt kein Präfix an</translation>
    </message>
    <message>
        <source>The device id &quot;%1&quot; made from the template &quot;%2&quot; is not valid: %3</source>
        <translation>Die aus der Vorlage „%2“ erzeugte Geräte-ID „%1“ ist ungültig: %3</translation>
    </message>
    <message>
        <source>&quot;%1&quot; applies to provisioning through DPS only; add &quot;registration&quot;: &quot;dps&quot; or remove it.</source>
        <translation>&quot;%1&quot; gilt nur für die Provisionierung über DPS; fügen Sie &quot;registration&quot;: &quot;dps&quot; hinzu oder entfernen Sie den Schlüssel.</translation>
    </message>
    <message>
        <source>&quot;registration&quot; is &quot;hub&quot; (the station registers each device in the hub) or &quot;dps&quot; (it enrolls each device in a Device Provisioning Service), not &quot;%1&quot;.</source>
        <translation>&quot;registration&quot; muss &quot;hub&quot; (die Station registriert jedes Gerät im Hub) oder &quot;dps&quot; (sie trägt jedes Gerät in einen Device Provisioning Service ein) sein, nicht &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>&quot;enrollment&quot; is &quot;individual&quot; (one enrollment per device, with its certificate) or &quot;group&quot; (an enrollment group whose CA signs the devices&apos; certificates), not &quot;%1&quot;.</source>
        <translation>&quot;enrollment&quot; muss &quot;individual&quot; (ein Registrierungseintrag pro Gerät, mit dessen Zertifikat) oder &quot;group&quot; (eine Registrierungsgruppe, deren CA die Zertifikate der Geräte signiert) sein, nicht &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>&quot;testRegistration&quot; must be true or false.</source>
        <translation>&quot;testRegistration&quot; muss true oder false sein.</translation>
    </message>
    <message>
        <source>&quot;hubAuth&quot; does not apply with &quot;registration&quot;: &quot;dps&quot;: DPS makes the hub device from the enrollment. Remove it.</source>
        <translation>&quot;hubAuth&quot; gilt nicht bei &quot;registration&quot;: &quot;dps&quot;: Der DPS legt das Hub-Gerät aus dem Registrierungseintrag an. Entfernen Sie den Schlüssel.</translation>
    </message>
    <message>
        <source>Provisioning through DPS needs &quot;dps&quot;: the name of a DPS added here (onboarder-cli dps add).</source>
        <translation>Die Provisionierung über DPS benötigt &quot;dps&quot;: den Namen eines hier hinzugefügten DPS (onboarder-cli dps add).</translation>
    </message>
    <message>
        <source>&quot;enrollment&quot;: &quot;group&quot; needs &quot;enrollmentGroup&quot;: the id of the enrollment group in DPS.</source>
        <translation>&quot;enrollment&quot;: &quot;group&quot; benötigt &quot;enrollmentGroup&quot;: die ID der Registrierungsgruppe im DPS.</translation>
    </message>
    <message>
        <source>An enrollment group admits devices whose certificate its CA signed: it needs &quot;auth&quot;: &quot;x509-ca&quot; with &quot;ca&quot; the CA the group holds.</source>
        <translation>Eine Registrierungsgruppe lässt Geräte zu, deren Zertifikat ihre CA signiert hat: Sie benötigt &quot;auth&quot;: &quot;x509-ca&quot; mit der CA der Gruppe als &quot;ca&quot;.</translation>
    </message>
    <message>
        <source>Devices of an enrollment group get the group&apos;s initial twin; set the tags there and remove &quot;twinTags&quot; from the profile.</source>
        <translation>Geräte einer Registrierungsgruppe erhalten den anfänglichen Twin der Gruppe; legen Sie die Tags dort fest und entfernen Sie &quot;twinTags&quot; aus dem Profil.</translation>
    </message>
    <message>
        <source>A test registration from the bench needs the device&apos;s key on this computer; a key made in the modem never leaves it. Set &quot;testRegistration&quot;: false (the modem registers when it first connects).</source>
        <translation>Eine Testregistrierung von der Station aus benötigt den Schlüssel des Geräts auf diesem Computer; ein im Modem erzeugter Schlüssel verlässt es nie. Setzen Sie &quot;testRegistration&quot;: false (das Modem registriert sich bei seiner ersten Verbindung).</translation>
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
    <name>RelayConfig</name>
    <message>
        <source>&quot;source.password&quot;: the password is not kept in the configuration file. Put it in a file only the relay can read and name it in &quot;source.passwordFile&quot;, or in the keychain and name the entry in &quot;source.passwordKeychain&quot;.</source>
        <translation>„source.password“: Das Passwort wird nicht in der Konfigurationsdatei gespeichert. Legen Sie es in eine Datei, die nur das Relay lesen kann, und nennen Sie diese in „source.passwordFile“, oder in den Schlüsselbund und nennen Sie den Eintrag in „source.passwordKeychain“.</translation>
    </message>
    <message>
        <source>&quot;%1%2&quot; is not a relay configuration key.</source>
        <translation>„%1%2“ ist kein Schlüssel der Relay-Konfiguration.</translation>
    </message>
    <message>
        <source>&quot;%1%2&quot; must be a string.</source>
        <translation>„%1%2“ muss eine Zeichenkette sein.</translation>
    </message>
    <message>
        <source>&quot;%1%2&quot; must be a whole number from %3 to %4.</source>
        <translation>„%1%2“ muss eine ganze Zahl von %3 bis %4 sein.</translation>
    </message>
    <message>
        <source>Cannot read the relay configuration %1: %2.</source>
        <translation>Die Relay-Konfiguration %1 ist nicht lesbar: %2.</translation>
    </message>
    <message>
        <source>The relay configuration is not valid JSON (at character %1: %2).</source>
        <translation>Die Relay-Konfiguration ist kein gültiges JSON (bei Zeichen %1: %2).</translation>
    </message>
    <message>
        <source>The relay configuration must be a JSON object.</source>
        <translation>Die Relay-Konfiguration muss ein JSON-Objekt sein.</translation>
    </message>
    <message>
        <source>&quot;hub&quot; is missing: name a hub added with onboarder-cli hub add.</source>
        <translation>„hub“ fehlt: Nennen Sie einen mit onboarder-cli hub add hinzugefügten Hub.</translation>
    </message>
    <message>
        <source>&quot;source&quot; is missing or not an object: it names the local broker (url, topics).</source>
        <translation>„source“ fehlt oder ist kein Objekt: Es nennt den lokalen Broker (url, topics).</translation>
    </message>
    <message>
        <source>&quot;source.url&quot; must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], not &quot;%1&quot;.</source>
        <translation>„source.url“ muss mqtt://HOST[:PORT] oder mqtts://HOST[:PORT] sein, nicht „%1“.</translation>
    </message>
    <message>
        <source>&quot;source.url&quot; must not hold a user name or password: use &quot;source.username&quot; and &quot;source.passwordFile&quot;.</source>
        <translation>„source.url“ darf keinen Benutzernamen und kein Passwort enthalten: Verwenden Sie „source.username“ und „source.passwordFile“.</translation>
    </message>
    <message>
        <source>&quot;source.passwordFile&quot; and &quot;source.passwordKeychain&quot; exclude each other: give one.</source>
        <translation>„source.passwordFile“ und „source.passwordKeychain“ schließen sich gegenseitig aus: Geben Sie eines davon an.</translation>
    </message>
    <message>
        <source>&quot;source.caFile&quot; needs an mqtts:// &quot;source.url&quot;.</source>
        <translation>„source.caFile“ erfordert eine mqtts://-„source.url“.</translation>
    </message>
    <message>
        <source>&quot;source.clientId&quot; is too long.</source>
        <translation>„source.clientId“ ist zu lang.</translation>
    </message>
    <message>
        <source>&quot;source.topics&quot; must be a non-empty array of topic filters, e.g. [&quot;sensors/+/telemetry&quot;].</source>
        <translation>„source.topics“ muss ein nicht leeres Array von Topic-Filtern sein, z. B. [&quot;sensors/+/telemetry&quot;].</translation>
    </message>
    <message>
        <source>&quot;source.topics&quot; holds an invalid topic filter: %1.</source>
        <translation>„source.topics“ enthält einen ungültigen Topic-Filter: %1.</translation>
    </message>
    <message>
        <source>Give exactly one of &quot;deviceIdFromTopic&quot; (e.g. &quot;sensors/{deviceId}/telemetry&quot;) and &quot;deviceIdFromPayload&quot; (a JSON field of the payload, e.g. &quot;meta.id&quot;).</source>
        <translation>Geben Sie genau eines von „deviceIdFromTopic“ (z. B. „sensors/{deviceId}/telemetry“) und „deviceIdFromPayload“ (ein JSON-Feld der Nutzlast, z. B. „meta.id“) an.</translation>
    </message>
    <message>
        <source>&quot;deviceIdFromTopic&quot; must hold the level {deviceId} once, e.g. &quot;sensors/{deviceId}/telemetry&quot;.</source>
        <translation>„deviceIdFromTopic“ muss die Ebene {deviceId} genau einmal enthalten, z. B. „sensors/{deviceId}/telemetry“.</translation>
    </message>
    <message>
        <source>&quot;deviceIdFromTopic&quot; is a pattern, not a filter: write {name} for a level that varies.</source>
        <translation>„deviceIdFromTopic“ ist ein Muster, kein Filter: Schreiben Sie {name} für eine Ebene, die variiert.</translation>
    </message>
    <message>
        <source>&quot;deviceIdFromTopic&quot; names a level twice.</source>
        <translation>„deviceIdFromTopic“ nennt eine Ebene zweimal.</translation>
    </message>
    <message>
        <source>&quot;properties&quot; must be an object: property name → &quot;{topicLevel}&quot;, &quot;$.payload.field&quot; or a text.</source>
        <translation>„properties“ muss ein Objekt sein: Eigenschaftsname → „{topicLevel}“, „$.payload.field“ oder ein Text.</translation>
    </message>
    <message>
        <source>&quot;properties.%1&quot;: a property name has 1 to 64 letters, digits, &apos;_&apos;, &apos;-&apos; or &apos;.&apos;, and is not a system property.</source>
        <translation>„properties.%1“: Ein Eigenschaftsname besteht aus 1 bis 64 Buchstaben, Ziffern, „_“, „-“ oder „.“ und ist keine Systemeigenschaft.</translation>
    </message>
    <message>
        <source>&quot;properties.%1&quot; must be a string.</source>
        <translation>„properties.%1“ muss eine Zeichenkette sein.</translation>
    </message>
    <message>
        <source>&quot;properties.%1&quot;: &quot;$.&quot; must be followed by a field name.</source>
        <translation>„properties.%1“: Auf „$.“ muss ein Feldname folgen.</translation>
    </message>
    <message>
        <source>&quot;properties.%1&quot; takes the topic level {%2}, which &quot;deviceIdFromTopic&quot; does not name.</source>
        <translation>„properties.%1“ verwendet die Topic-Ebene {%2}, die „deviceIdFromTopic“ nicht nennt.</translation>
    </message>
    <message>
        <source>&quot;deviceAuth&quot; must be &quot;sas&quot; (keys from the registry) or &quot;x509&quot; (certificates from the keychain).</source>
        <translation>„deviceAuth“ muss „sas“ (Schlüssel aus der Registrierung) oder „x509“ (Zertifikate aus dem Schlüsselbund) sein.</translation>
    </message>
    <message>
        <source>&quot;hubConnection.proxy&quot; must be http://HOST:PORT, not &quot;%1&quot;.</source>
        <translation>„hubConnection.proxy“ muss http://HOST:PORT sein, nicht „%1“.</translation>
    </message>
    <message>
        <source>&quot;hubConnection.proxy&quot; must not hold a user name or password: the relay supports proxies that need no sign-in.</source>
        <translation>„hubConnection.proxy“ darf keinen Benutzernamen und kein Passwort enthalten: Das Relay unterstützt nur Proxys ohne Anmeldung.</translation>
    </message>
    <message>
        <source>&quot;%1%2&quot; must be true or false.</source>
        <translation>„%1%2“ muss true oder false sein.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; must be an object: %2.</source>
        <translation>„%1“ muss ein Objekt sein: %2.</translation>
    </message>
    <message>
        <source>&quot;autoRegisterCa&quot; names the CA that signs the certificates the relay makes for unknown devices: it needs &quot;autoRegister&quot;: true and &quot;deviceAuth&quot;: &quot;x509&quot;.</source>
        <translation>&quot;autoRegisterCa&quot; nennt die CA, die die Zertifikate signiert, die das Relay für unbekannte Geräte erstellt: Es braucht &quot;autoRegister&quot;: true und &quot;deviceAuth&quot;: &quot;x509&quot;.</translation>
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
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
</context>
<context>
    <name>TwinTags</name>
    <message>
        <source>Twin tags are name=value pairs separated by commas, e.g. site=bench-1, batch=7.</source>
        <translation>Twin-Tags sind durch Kommas getrennte Paare der Form Name=Wert, z. B. site=bench-1, batch=7.</translation>
    </message>
</context>
<context>
    <name>WebSocket</name>
    <message>
        <source>it did not answer in HTTP</source>
        <translation>es hat nicht in HTTP geantwortet</translation>
    </message>
    <message>
        <source>it refused the WebSocket upgrade (%1)</source>
        <translation>es hat den WebSocket-Upgrade abgelehnt (%1)</translation>
    </message>
    <message>
        <source>its WebSocket upgrade answer is not valid</source>
        <translation>seine Antwort auf den WebSocket-Upgrade ist ungültig</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Onboard and monitor Azure IoT Hub devices.</source>
        <translation>Geräte für Azure IoT Hub einrichten und überwachen.</translation>
    </message>
    <message>
        <source>Open the Relay page with this relay configuration (JSON).</source>
        <translation>Die Relay-Seite mit dieser Relay-Konfiguration (JSON) öffnen.</translation>
    </message>
    <message>
        <source>FILE</source>
        <translation>DATEI</translation>
    </message>
    <message>
        <source>With --relay-config: start the relay at once.</source>
        <translation>Mit --relay-config: das Relay sofort starten.</translation>
    </message>
    <message>
        <source>error: --start-relay needs --relay-config FILE.</source>
        <translation>Fehler: --start-relay braucht --relay-config DATEI.</translation>
    </message>
</context>
</TS>
