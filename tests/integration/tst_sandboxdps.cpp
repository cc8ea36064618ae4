// The sandbox's Device Provisioning Service over real HTTPS (its certificate from the sandbox CA, trusted
// explicitly, on 127.0.0.2): what the official SDKs (tests/interop/dps.test.js) do not pin down — ETags and
// 412, paging, bodies refused with a clear 400, connection strings of the wrong service, registration states,
// persistence — plus the group key derivation vectors and the MQTT session's protocol refusals.
#include "certificatefixtures.h"
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "dps.h"
#include "dpsmqttsession.h"
#include "hub/sastoken.h"
#include "registry.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QTemporaryDir>
#include <QUrlQuery>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

struct Response
{
    int status = 0;
    QByteArray raw;
    QHash<QByteArray, QByteArray> headers;
    QJsonObject object() const { return QJsonDocument::fromJson(raw).object(); }
    QJsonArray array() const { return QJsonDocument::fromJson(raw).array(); }
    QString message() const { return object().value(QStringLiteral("message")).toString(); }
};

QByteArray mqttField(const QByteArray &bytes)
{
    return QByteArray(1, char(bytes.size() >> 8)) + char(bytes.size() & 0xff) + bytes;
}

// A packet with MQTT's variable-length remaining length.
QByteArray mqttPacket(quint8 header, const QByteArray &body)
{
    QByteArray length;
    qsizetype value = body.size();
    do {
        quint8 byte = value & 0x7f;
        value >>= 7;
        if (value)
            byte |= 0x80;
        length.append(char(byte));
    } while (value);
    return char(header) + length + body;
}

QByteArray mqttConnect(const QByteArray &clientId, const QByteArray &userName, const QByteArray &password)
{
    QByteArray body = mqttField("MQTT") + char(4) + char(0xc2) + char(0) + char(60) + mqttField(clientId)
        + mqttField(userName) + mqttField(password);
    return mqttPacket(0x10, body);
}

} // namespace

class tst_SandboxDps : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SandboxHub> m_hub;
    QNetworkAccessManager m_network;
    QJsonObject m_ready;
    int m_port = 0;

    void startHub()
    {
        m_hub.reset();
        SandboxHub::Options options;
        options.dataDir = m_dir.filePath(QStringLiteral("hub"));
        options.dps = true;
        options.dpsAddress = QStringLiteral("127.0.0.2");
        m_hub = std::make_unique<SandboxHub>(options);
        const auto started = m_hub->start();
        QVERIFY2(started.has_value(), started ? "" : qPrintable(started.error().message));
        m_ready = m_hub->readyInfo().value(QStringLiteral("dps")).toObject();
        m_port = m_ready.value(QStringLiteral("restPort")).toInt();
        QVERIFY(m_port > 0);
    }

    QString dpsKey() const { return m_hub->dps()->policyKey(QLatin1String(Dps::OwnerPolicy)); }

    QString token(const QString &resource, const QString &policy, const QString &key) const
    {
        return SasToken::create(resource, key, QDateTime::currentSecsSinceEpoch() + 600, policy)->toString();
    }

    QString ownerToken() const { return token(QStringLiteral("127.0.0.2"), QLatin1String(Dps::OwnerPolicy), dpsKey()); }

    Response call(const QByteArray &method, const QString &path, const QByteArray &body = {},
        const QString &auth = QStringLiteral("owner"), const QList<std::pair<QByteArray, QByteArray>> &headers = {},
        const QString &apiVersion = QStringLiteral("2021-10-01"))
    {
        QUrl url(QStringLiteral("https://127.0.0.2:%1%2").arg(m_port).arg(path));
        if (!apiVersion.isEmpty())
            url.setQuery(QStringLiteral("api-version=") + apiVersion);
        QNetworkRequest request(url);
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.addCaCertificates(
            m_dir.filePath(QStringLiteral("hub/ca.pem"))); // verified: the DPS's certificate names 127.0.0.2
        request.setSslConfiguration(tls);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json; charset=utf-8"));
        if (!auth.isEmpty())
            request.setRawHeader("Authorization", (auth == QStringLiteral("owner") ? ownerToken() : auth).toUtf8());
        for (const auto &[name, value] : headers)
            request.setRawHeader(name, value);
        QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
        QDeadlineTimer deadline(15000);
        while (!reply->isFinished() && !deadline.hasExpired())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        Response response;
        response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() != QNetworkReply::NoError && response.status == 0)
            qWarning() << "transport error" << reply->errorString();
        response.raw = reply->readAll();
        for (const auto &[name, value] : reply->rawHeaderPairs())
            response.headers.insert(name.toLower(), value);
        reply->deleteLater();
        return response;
    }

    static QByteArray json(const QJsonObject &object) { return QJsonDocument(object).toJson(QJsonDocument::Compact); }

    static QByteArray symmetricEnrollment(const QString &id)
    {
        return json({{QStringLiteral("registrationId"), id},
            {QStringLiteral("attestation"), QJsonObject{{QStringLiteral("type"), QStringLiteral("symmetricKey")}}}});
    }

    // DPS's error body: exactly errorCode, trackingId, message, timestampUtc.
    static void verifyError(const Response &response, int status, int errorCode)
    {
        QCOMPARE(response.status, status);
        const QJsonObject body = response.object();
        QCOMPARE(body.keys(),
            (QStringList{QStringLiteral("errorCode"), QStringLiteral("message"), QStringLiteral("timestampUtc"),
                QStringLiteral("trackingId")}));
        QCOMPARE(body.value(QStringLiteral("errorCode")).toInt(), errorCode);
        QVERIFY(!body.value(QStringLiteral("trackingId")).toString().isEmpty());
        QVERIFY(
            QDateTime::fromString(body.value(QStringLiteral("timestampUtc")).toString(), Qt::ISODateWithMs).isValid());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        startHub();
    }

    void cleanupTestCase() { m_hub.reset(); }

    // V10 of the protocol notes (docs' group key example) and a DPS registration token signed with V9's key (C3).
    void groupKeyDerivationVectors()
    {
        QCOMPARE(Dps::deriveDeviceKey(
                     QStringLiteral(
                         "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="),
                     QStringLiteral("sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6")),
            QStringLiteral("Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="));
        QVERIFY(Dps::deriveDeviceKey(QStringLiteral("not base64!"), QStringLiteral("x")).isEmpty());
        const auto c3 = SasToken::create(QStringLiteral("0ne00111111/registrations/my-symkey-device"),
            QStringLiteral("18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA=="),
            1663952627, QStringLiteral("registration"));
        QVERIFY(c3.has_value());
        QCOMPARE(c3->signature(), QStringLiteral("8VPprb8BiTkuVE0hBqHm/SVrzVpdD8VZcXugntdbhuU="));
    }

    void readyJsonNamesTheDps()
    {
        QCOMPARE(m_ready.value(QStringLiteral("host")).toString(), QStringLiteral("127.0.0.2"));
        static const QRegularExpression scope(QStringLiteral("^0ne[0-9A-F]{8}$"));
        QVERIFY(scope.match(m_ready.value(QStringLiteral("idScope")).toString()).hasMatch());
        QVERIFY(m_ready.value(QStringLiteral("mqttPort")).toInt() > 0);
        QVERIFY(m_ready.value(QStringLiteral("connectionString"))
                    .toString()
                    .startsWith(QStringLiteral(
                        "HostName=127.0.0.2;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=")));
    }

    void etagsAndPreconditions()
    {
        const Response created
            = call("PUT", QStringLiteral("/enrollments/etag-1"), symmetricEnrollment(QStringLiteral("etag-1")));
        QCOMPARE(created.status, 200);
        const QString etag = created.object().value(QStringLiteral("etag")).toString();
        QVERIFY(!etag.isEmpty());
        QCOMPARE(created.headers.value("etag"), QByteArray('"' + etag.toLatin1() + '"'));

        // Update with the current ETag (quoted, as HTTP writes it): a new ETag, the creation time kept.
        QJsonObject changed = created.object();
        changed.insert(QStringLiteral("provisioningStatus"), QStringLiteral("disabled"));
        const Response updated = call("PUT", QStringLiteral("/enrollments/etag-1"), json(changed),
            QStringLiteral("owner"), {{"If-Match", '"' + etag.toLatin1() + '"'}});
        QCOMPARE(updated.status, 200);
        QCOMPARE(updated.object().value(QStringLiteral("provisioningStatus")).toString(), QStringLiteral("disabled"));
        QVERIFY(updated.object().value(QStringLiteral("etag")).toString() != etag);
        QCOMPARE(updated.object().value(QStringLiteral("createdDateTimeUtc")),
            created.object().value(QStringLiteral("createdDateTimeUtc")));
        // The keys given back are kept, not generated again.
        QVERIFY2(updated.object().value(QStringLiteral("attestation"))
                == created.object().value(QStringLiteral("attestation")),
            "the keys were kept");

        const Response stale = call("PUT", QStringLiteral("/enrollments/etag-1"), json(changed),
            QStringLiteral("owner"), {{"If-Match", etag.toLatin1()}});
        verifyError(stale, 412, 412002);
        QVERIFY2(stale.message().contains(etag), qPrintable(stale.message()));
        verifyError(call("PUT", QStringLiteral("/enrollments/etag-missing"),
                        symmetricEnrollment(QStringLiteral("etag-missing")), QStringLiteral("owner"),
                        {{"If-Match", "\"whatever\""}}),
            412, 412002);
        verifyError(call("DELETE", QStringLiteral("/enrollments/etag-1"), {}, QStringLiteral("owner"),
                        {{"If-Match", etag.toLatin1()}}),
            412, 412002);
        QCOMPARE(call("GET", QStringLiteral("/enrollments/etag-1")).status, 200);
        QCOMPARE(call("DELETE", QStringLiteral("/enrollments/etag-1"), {}, QStringLiteral("owner"),
                     {{"If-Match", updated.object().value(QStringLiteral("etag")).toString().toLatin1()}})
                     .status,
            204);
        verifyError(call("GET", QStringLiteral("/enrollments/etag-1")), 404, 404201);
        verifyError(call("DELETE", QStringLiteral("/enrollments/etag-1")), 404, 404201);
    }

    void queryPages()
    {
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            const QString id = QStringLiteral("page-%1").arg(i);
            ids.append(id);
            QCOMPARE(call("PUT", QStringLiteral("/enrollmentGroups/") + id,
                         json({{QStringLiteral("enrollmentGroupId"), id},
                             {QStringLiteral("attestation"),
                                 QJsonObject{{QStringLiteral("type"), QStringLiteral("symmetricKey")}}}}))
                         .status,
                200);
        }
        QStringList seen;
        QByteArray continuation;
        QList<int> sizes;
        for (int guard = 0; guard < 10; ++guard) {
            QList<std::pair<QByteArray, QByteArray>> headers{{"x-ms-max-item-count", "2"}};
            if (!continuation.isEmpty())
                headers.append({"x-ms-continuation", continuation});
            const Response page = call("POST", QStringLiteral("/enrollmentGroups/query"), R"({"query":"*"})",
                QStringLiteral("owner"), headers);
            QCOMPARE(page.status, 200);
            QCOMPARE(page.headers.value("x-ms-item-type"), QByteArray("enrollmentGroup"));
            sizes.append(int(page.array().size()));
            for (const QJsonValue &group : page.array())
                seen.append(group.toObject().value(QStringLiteral("enrollmentGroupId")).toString());
            continuation = page.headers.value("x-ms-continuation");
            if (continuation.isEmpty())
                break;
        }
        QCOMPARE(sizes, (QList<int>{2, 2, 1}));
        QCOMPARE(seen, ids);

        verifyError(call("POST", QStringLiteral("/enrollmentGroups/query"), R"({"query":"*"})", QStringLiteral("owner"),
                        {{"x-ms-continuation", "garbage!"}}),
            400, 400004);
        verifyError(call("POST", QStringLiteral("/enrollmentGroups/query"), R"({"query":"*"})", QStringLiteral("owner"),
                        {{"x-ms-max-item-count", "0"}}),
            400, 400004);
        const Response other = call(
            "POST", QStringLiteral("/enrollmentGroups/query"), R"({"query":"SELECT * FROM enrollments WHERE x = 1"})");
        verifyError(other, 400, 400004);
        QVERIFY2(other.message().contains(QStringLiteral("\"*\"")), qPrintable(other.message()));
        for (const QString &id : std::as_const(ids))
            QCOMPARE(call("DELETE", QStringLiteral("/enrollmentGroups/") + id).status, 204);
    }

    void badBodiesAreExplained_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("explanation");
        QTest::newRow("not JSON") << QStringLiteral("/enrollments/bad-1") << QByteArray("{not json")
                                  << QStringLiteral("not JSON");
        QTest::newRow("array") << QStringLiteral("/enrollments/bad-1") << QByteArray("[]")
                               << QStringLiteral("not a JSON object");
        QTest::newRow("no attestation") << QStringLiteral("/enrollments/bad-1")
                                        << QByteArray(R"({"registrationId":"bad-1"})")
                                        << QStringLiteral("attestation is missing");
        QTest::newRow("tpm") << QStringLiteral("/enrollments/bad-1")
                             << QByteArray(R"({"attestation":{"type":"tpm","tpm":{"endorsementKey":"AAAA"}}})")
                             << QStringLiteral("TPM attestation is not supported");
        QTest::newRow("unknown type") << QStringLiteral("/enrollments/bad-1")
                                      << QByteArray(R"({"attestation":{"type":"magic"}})") << QStringLiteral("'magic'");
        QTest::newRow("id mismatch") << QStringLiteral(
            "/enrollments/bad-1") << QByteArray(R"({"registrationId":"other","attestation":{"type":"symmetricKey"}})")
                                     << QStringLiteral("not the one in the URL");
        QTest::newRow("bad id") << QStringLiteral("/enrollments/bad%20id")
                                << QByteArray(R"({"attestation":{"type":"symmetricKey"}})")
                                << QStringLiteral("not a valid registrationId");
        QTest::newRow("short key")
            << QStringLiteral("/enrollments/bad-1")
            << QByteArray(R"({"attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"c2hvcnQ="}}})")
            << QStringLiteral("base64 of 16 to 64 bytes");
        QTest::newRow("x509 without certificate")
            << QStringLiteral("/enrollments/bad-1")
            << QByteArray(R"({"attestation":{"type":"x509","x509":{"clientCertificates":{"primary":{}}}}})")
            << QStringLiteral("clientCertificates.primary.certificate is missing");
        QTest::newRow("x509 garbage certificate")
            << QStringLiteral("/enrollments/bad-1")
            << QByteArray(
                   R"({"attestation":{"type":"x509","x509":{"clientCertificates":{"primary":{"certificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}}}}})")
            << QStringLiteral("not a PEM or base64 DER certificate");
        QTest::newRow("caReferences")
            << QStringLiteral("/enrollmentGroups/bad-g")
            << QByteArray(R"({"attestation":{"type":"x509","x509":{"caReferences":{"primary":"myca"}}}})")
            << QStringLiteral("caReferences is not supported");
        QTest::newRow("group with client certificates")
            << QStringLiteral("/enrollmentGroups/bad-g")
            << QByteArray(
                   R"({"attestation":{"type":"x509","x509":{"clientCertificates":{"primary":{"certificate":"x"}}}}})")
            << QStringLiteral("takes attestation.x509.signingCertificates");
        QTest::newRow("status") << QStringLiteral("/enrollments/bad-1")
                                << QByteArray(
                                       R"({"attestation":{"type":"symmetricKey"},"provisioningStatus":"paused"})")
                                << QStringLiteral("provisioningStatus must be 'enabled' or 'disabled'");
        QTest::newRow("reprovision")
            << QStringLiteral("/enrollments/bad-1")
            << QByteArray(R"({"attestation":{"type":"symmetricKey"},"reprovisionPolicy":{"updateHubAssignment":true}})")
            << QStringLiteral("migrateDeviceData");
        QTest::newRow("initial twin") << QStringLiteral(
            "/enrollments/bad-1") << QByteArray(R"({"attestation":{"type":"symmetricKey"},"initialTwin":{"tags":[1]}})")
                                      << QStringLiteral("tags and properties.desired must be objects");
    }

    void badBodiesAreExplained()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(QString, explanation);
        const Response response = call("PUT", path, body);
        verifyError(response, 400, 400004);
        QVERIFY2(response.message().contains(explanation), qPrintable(response.message()));
        QCOMPARE(call("GET", path).status, 404); // nothing was stored
    }

    void aGroupsSigningCertificateIsACa()
    {
        auto key = KeyPair::generate(KeyPair::Type::EcP256);
        auto leaf = Certificate::selfSigned(*key, {QStringLiteral("not-a-ca"), {}, {}, 2, Certificate::Usage::Client});
        QVERIFY(leaf.has_value());
        // A version 1 self-signed certificate has no basicConstraints: no CA either (OpenSSL's X509_check_ca
        // would take it for one).
        const Certificate version1 = TestSupport::version1SelfSigned(*key, "old-style-ca");
        for (const Certificate &signing : {*leaf, version1}) {
            const QJsonObject body{{QStringLiteral("attestation"),
                QJsonObject{{QStringLiteral("type"), QStringLiteral("x509")},
                    {QStringLiteral("x509"),
                        QJsonObject{{QStringLiteral("signingCertificates"),
                            QJsonObject{{QStringLiteral("primary"),
                                QJsonObject{
                                    {QStringLiteral("certificate"), QString::fromLatin1(signing.toPem())}}}}}}}}}};
            const Response response = call("PUT", QStringLiteral("/enrollmentGroups/leaf-group"), json(body));
            verifyError(response, 400, 400004);
            QVERIFY2(
                response.message().contains(QStringLiteral("is not a CA certificate")), qPrintable(response.message()));
        }
    }

    void wrongServiceCredentialsAreNamed()
    {
        // A hub connection string's token (the hub's host, its owner policy and key) sent to the DPS.
        const QString hubKey = m_hub->registry().policy(QStringLiteral("iothubowner"))->primaryKey;
        Response response = call("GET", QStringLiteral("/enrollments/x"), {},
            token(QStringLiteral("127.0.0.1"), QStringLiteral("iothubowner"), hubKey));
        verifyError(response, 401, 401002);
        QVERIFY2(response.message().contains(QStringLiteral("hub connection string")), qPrintable(response.message()));
        QVERIFY2(response.message().contains(QStringLiteral("IoT hub 127.0.0.1")), qPrintable(response.message()));

        // The DPS's host, but a hub policy name.
        response = call("GET", QStringLiteral("/enrollments/x"), {},
            token(QStringLiteral("127.0.0.2"), QStringLiteral("iothubowner"), hubKey));
        verifyError(response, 401, 401002);
        QVERIFY2(response.message().contains(QStringLiteral("no shared access policy named 'iothubowner'")),
            qPrintable(response.message()));
        QVERIFY2(response.message().contains(QStringLiteral("hub connection string")), qPrintable(response.message()));

        // The right policy, a wrong key; no token; another host; an api-version the DPS does not serve.
        response = call("GET", QStringLiteral("/enrollments/x"), {},
            token(QStringLiteral("127.0.0.2"), QLatin1String(Dps::OwnerPolicy), hubKey));
        verifyError(response, 401, 401002);
        QVERIFY2(
            response.message().contains(QStringLiteral("signature does not match")), qPrintable(response.message()));
        verifyError(call("GET", QStringLiteral("/enrollments/x"), {}, QString()), 401, 401002);
        response = call("GET", QStringLiteral("/enrollments/x"), {},
            token(QStringLiteral("elsewhere.example"), QLatin1String(Dps::OwnerPolicy), dpsKey()));
        verifyError(response, 401, 401002);
        QVERIFY2(response.message().contains(QStringLiteral("not for this DPS")), qPrintable(response.message()));
        verifyError(call("GET", QStringLiteral("/enrollments/x"), {}, QStringLiteral("owner"), {},
                        QStringLiteral("2016-01-01")),
            400, 400004);
        // The owner's token is accepted.
        verifyError(call("GET", QStringLiteral("/enrollments/x")), 404, 404201);
    }

    // A symmetric-key device over the HTTPS device API: 202, Retry-After, the operation, then the hub device
    // and the registration state the service reads, queries per group and deletes.
    void httpsRegistrationAndRegistrationStates()
    {
        const QString scope = m_ready.value(QStringLiteral("idScope")).toString();
        const QString groupId = QStringLiteral("https-group");
        const Response group = call("PUT", QStringLiteral("/enrollmentGroups/") + groupId,
            json(
                {{QStringLiteral("attestation"), QJsonObject{{QStringLiteral("type"), QStringLiteral("symmetricKey")}}},
                    {QStringLiteral("initialTwin"),
                        QJsonObject{
                            {QStringLiteral("tags"), QJsonObject{{QStringLiteral("fleet"), QStringLiteral("A")}}}}}}));
        QCOMPARE(group.status, 200);
        const QString groupKey = group.object()
                                     .value(QStringLiteral("attestation"))
                                     .toObject()
                                     .value(QStringLiteral("symmetricKey"))
                                     .toObject()
                                     .value(QStringLiteral("primaryKey"))
                                     .toString();
        const QString registrationId = QStringLiteral("https-device-1");
        const QString deviceKey = Dps::deriveDeviceKey(groupKey, registrationId);
        const QString resource = scope + QStringLiteral("/registrations/") + registrationId;
        const QString deviceToken = token(resource, QStringLiteral("registration"), deviceKey);

        // Refused first: a token signed with the group key itself (not the derived one), and one for another id.
        Response refused = call("PUT", QStringLiteral("/%1/registrations/%2/register").arg(scope, registrationId),
            json({{QStringLiteral("registrationId"), registrationId}}),
            token(resource, QStringLiteral("registration"), groupKey), {}, QStringLiteral("2019-03-31"));
        verifyError(refused, 401, 401002);
        refused = call("PUT", QStringLiteral("/%1/registrations/other/register").arg(scope),
            json({{QStringLiteral("registrationId"), QStringLiteral("other")}}), deviceToken, {},
            QStringLiteral("2019-03-31"));
        verifyError(refused, 401, 401002);
        QVERIFY2(refused.message().contains(resource), qPrintable(refused.message()));
        QVERIFY(!m_hub->registry().device(registrationId).has_value());

        const Response accepted = call("PUT",
            QStringLiteral("/%1/registrations/%2/register").arg(scope, registrationId),
            json({{QStringLiteral("registrationId"), registrationId}}), deviceToken, {}, QStringLiteral("2019-03-31"));
        QCOMPARE(accepted.status, 202);
        QCOMPARE(accepted.headers.value("retry-after"), QByteArray("1"));
        QCOMPARE(accepted.object().value(QStringLiteral("status")).toString(), QStringLiteral("assigning"));
        const QString operationId = accepted.object().value(QStringLiteral("operationId")).toString();
        QVERIFY(!operationId.isEmpty());

        const Response done
            = call("GET", QStringLiteral("/%1/registrations/%2/operations/%3").arg(scope, registrationId, operationId),
                {}, deviceToken, {}, QStringLiteral("2019-03-31"));
        QCOMPARE(done.status, 200);
        QCOMPARE(done.object().value(QStringLiteral("status")).toString(), QStringLiteral("assigned"));
        const QJsonObject state = done.object().value(QStringLiteral("registrationState")).toObject();
        QCOMPARE(state.value(QStringLiteral("assignedHub")).toString(), QStringLiteral("127.0.0.1"));
        QCOMPARE(state.value(QStringLiteral("deviceId")).toString(), registrationId);
        QCOMPARE(state.value(QStringLiteral("substatus")).toString(), QStringLiteral("initialAssignment"));
        verifyError(call("GET", QStringLiteral("/%1/registrations/%2/operations/nope").arg(scope, registrationId), {},
                        deviceToken, {}, QStringLiteral("2019-03-31")),
            404, 404202);

        const auto device = m_hub->registry().device(registrationId);
        QVERIFY(device.has_value());
        QCOMPARE(device->authType, QStringLiteral("sas"));
        QVERIFY2(device->primaryKey == deviceKey, "the hub device has the derived key"); // keys are not printed
        QCOMPARE(device->tags.value(QStringLiteral("fleet")).toString(), QStringLiteral("A"));

        // Registering again: the same device, its data migrated (the default reprovision policy).
        const Response again = call("PUT", QStringLiteral("/%1/registrations/%2/register").arg(scope, registrationId),
            json({{QStringLiteral("registrationId"), registrationId}}), deviceToken, {}, QStringLiteral("2019-03-31"));
        QCOMPARE(again.status, 202);
        const Response second = call("GET",
            QStringLiteral("/%1/registrations/%2/operations/%3")
                .arg(scope, registrationId, again.object().value(QStringLiteral("operationId")).toString()),
            {}, deviceToken, {}, QStringLiteral("2019-03-31"));
        QCOMPARE(second.object()
                     .value(QStringLiteral("registrationState"))
                     .toObject()
                     .value(QStringLiteral("substatus"))
                     .toString(),
            QStringLiteral("deviceDataMigrated"));

        // The service's view.
        const Response read = call("GET", QStringLiteral("/registrations/") + registrationId);
        QCOMPARE(read.status, 200);
        QCOMPARE(read.object().value(QStringLiteral("status")).toString(), QStringLiteral("assigned"));
        QVERIFY(!read.object().contains(QStringLiteral("_group")));
        const Response perGroup
            = call("POST", QStringLiteral("/registrations/%1/query").arg(groupId), R"({"query":"*"})");
        QCOMPARE(perGroup.status, 200);
        QCOMPARE(perGroup.headers.value("x-ms-item-type"), QByteArray("deviceRegistration"));
        QCOMPARE(perGroup.array().size(), 1);
        QCOMPARE(perGroup.array().at(0).toObject().value(QStringLiteral("registrationId")).toString(), registrationId);
        QCOMPARE(
            call("POST", QStringLiteral("/registrations/another-group/query"), R"({"query":"*"})").array().size(), 0);
        verifyError(call("DELETE", QStringLiteral("/registrations/") + registrationId, {}, QStringLiteral("owner"),
                        {{"If-Match", "\"old\""}}),
            412, 412002);
        QCOMPARE(call("DELETE", QStringLiteral("/registrations/") + registrationId).status, 204);
        verifyError(call("GET", QStringLiteral("/registrations/") + registrationId), 404, 404201);
    }

    // The state survives a restart: ID scope, policy key, enrollments.
    void persists()
    {
        const QString scope = m_ready.value(QStringLiteral("idScope")).toString();
        const QString connectionString = m_ready.value(QStringLiteral("connectionString")).toString();
        QCOMPARE(
            call("PUT", QStringLiteral("/enrollments/kept"), symmetricEnrollment(QStringLiteral("kept"))).status, 200);
        const QString keptKey = call("GET", QStringLiteral("/enrollments/kept"))
                                    .object()
                                    .value(QStringLiteral("attestation"))
                                    .toObject()
                                    .value(QStringLiteral("symmetricKey"))
                                    .toObject()
                                    .value(QStringLiteral("primaryKey"))
                                    .toString();
        startHub();
        QCOMPARE(m_ready.value(QStringLiteral("idScope")).toString(), scope);
        QVERIFY2(m_ready.value(QStringLiteral("connectionString")).toString() == connectionString,
            "the policy key was kept");
        const Response kept = call("GET", QStringLiteral("/enrollments/kept"));
        QCOMPARE(kept.status, 200);
        QVERIFY2(kept.object()
                     .value(QStringLiteral("attestation"))
                     .toObject()
                     .value(QStringLiteral("symmetricKey"))
                     .toObject()
                     .value(QStringLiteral("primaryKey"))
                     .toString()
                == keptKey,
            "the enrollment's key was kept");
        QFile state(m_dir.filePath(QStringLiteral("hub/dps.json")));
        QCOMPARE(state.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions());
    }

    // The MQTT face's session, bytes in and out: CONNECT checks, refusals on the response topic, ends.
    void mqttSession()
    {
        Dps &dps = *m_hub->dps();
        const QString scope = dps.idScope();
        {
            DpsMqttSession session(dps, {});
            const QByteArray out = session.feed(mqttConnect("dev", "not-a-dps-user", ""));
            QCOMPARE(out, QByteArray::fromHex("20020004")); // CONNACK: bad user name or password
            QVERIFY(session.closed());
        }
        {
            DpsMqttSession session(dps, {});
            const QByteArray out = session.feed(mqttConnect(
                "other", (scope + QStringLiteral("/registrations/dev/api-version=2019-03-31")).toUtf8(), ""));
            QCOMPARE(out, QByteArray::fromHex("20020002")); // identifier rejected: the client id is the registration id
        }
        {
            DpsMqttSession session(dps, {});
            const QByteArray user
                = (scope + QStringLiteral("/registrations/nobody/api-version=2019-03-31&ClientVersion=x")).toUtf8();
            const QString sas = token(scope + QStringLiteral("/registrations/nobody"), QStringLiteral("registration"),
                TestSupport::randomKey());
            QCOMPARE(session.feed(mqttConnect("nobody", user, sas.toUtf8())), QByteArray::fromHex("20020000"));
            const QByteArray subscribe
                = mqttPacket(0x82, QByteArray::fromHex("0001") + mqttField("$dps/registrations/res/#") + char(1));
            QCOMPARE(session.feed(subscribe), QByteArray::fromHex("9003000101"));
            const QByteArray publish = mqttPacket(0x32,
                mqttField("$dps/registrations/PUT/iotdps-register/?$rid=7") + QByteArray::fromHex("0002")
                    + R"({"registrationId":"nobody"})");
            const QByteArray out = session.feed(publish);
            QVERIFY(out.startsWith(QByteArray::fromHex("40020002"))); // PUBACK
            QVERIFY2(out.contains("$dps/registrations/res/401/?$rid=7"), out.constData());
            QVERIFY(out.contains("\"errorCode\":401002"));
            QVERIFY(!session.closed());
            QCOMPARE(session.feed(mqttPacket(0xc0, {})), QByteArray::fromHex("d000")); // PINGRESP
            // Publishing anywhere else ends the connection.
            session.feed(mqttPacket(0x30, mqttField("devices/nobody/messages/events/") + "x"));
            QVERIFY(session.closed());
        }
        {
            DpsMqttSession session(dps, {});
            session.feed(QByteArray::fromHex("3000")); // a PUBLISH before CONNECT
            QVERIFY(session.closed());
        }
        {
            DpsMqttSession session(dps, {});
            session.feed(QByteArray::fromHex("10ffffffff7f")); // a length of more than four bytes
            QVERIFY(session.closed());
        }
    }
};

QTEST_MAIN(tst_SandboxDps)
#include "tst_sandboxdps.moc"
