// The sandbox hub's REST API over real HTTPS (its own CA trusted explicitly): status codes, Azure's
// error bodies and headers, SAS authorisation per policy right, ETags, paging, throttling, persistence.
#include "hub/sastoken.h"
#include "registry.h"
#include "restfrontdoor.h"
#include "sandboxhub.h"
#include "testsupport.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryDir>

#include <csignal>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

struct Response
{
    int status = 0;
    QJsonDocument body;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QHash<QByteArray, QByteArray> headers;
    QJsonObject object() const { return body.object(); }
    QString errorCode() const { return QString::fromLatin1(headers.value("iothub-errorcode")); }
};

} // namespace

class tst_SandboxRegistry : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SandboxHub> m_hub;
    QNetworkAccessManager m_network;
    int m_port = 0;
    QString m_ownerKey;

    void startHub(int throttle = 0, int seed = 0)
    {
        m_hub.reset();
        SandboxHub::Options options;
        options.dataDir = m_dir.filePath(QStringLiteral("hub"));
        options.throttlePerMinute = throttle;
        options.seedDevices = seed;
        m_hub = std::make_unique<SandboxHub>(options);
        const auto started = m_hub->start();
        QVERIFY2(started.has_value(), started ? "" : qPrintable(started.error().message));
        m_port = m_hub->readyInfo().value(QStringLiteral("restPort")).toInt();
        m_ownerKey = m_hub->registry().policy(QStringLiteral("iothubowner"))->primaryKey;
    }

    QString token(const QString &policy, const QString &key, qint64 ttl = 600,
        const QString &resource = QStringLiteral("127.0.0.1"))
    {
        return SasToken::create(resource, key, QDateTime::currentSecsSinceEpoch() + ttl, policy)->toString();
    }

    QString ownerToken() { return token(QStringLiteral("iothubowner"), m_ownerKey); }

    Response call(const QByteArray &method, const QString &path, const QJsonDocument &body = {},
        const QString &auth = QStringLiteral("owner"), const QList<std::pair<QByteArray, QByteArray>> &headers = {},
        const QString &apiVersion = QStringLiteral("2021-04-12"))
    {
        // The path as the test wrote it, escapes included (a raw space gets escaped).
        QUrl url = QUrl::fromEncoded(
            QStringLiteral("https://127.0.0.1:%1%2").arg(m_port).arg(path).toUtf8(), QUrl::TolerantMode);
        if (!apiVersion.isEmpty())
            url.setQuery(QStringLiteral("api-version=") + apiVersion);
        QNetworkRequest request(url);
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.addCaCertificates(m_dir.filePath(QStringLiteral("hub/ca.pem")));
        request.setSslConfiguration(tls);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json; charset=utf-8"));
        if (!auth.isEmpty())
            request.setRawHeader("Authorization", (auth == QStringLiteral("owner") ? ownerToken() : auth).toUtf8());
        for (const auto &[name, value] : headers)
            request.setRawHeader(name, value);
        QNetworkReply *reply = m_network.sendCustomRequest(
            request, method, body.isNull() ? QByteArray() : body.toJson(QJsonDocument::Compact));
        QDeadlineTimer deadline(15000);
        while (!reply->isFinished() && !deadline.hasExpired())
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        Response response;
        response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        response.error = reply->error();
        response.body = QJsonDocument::fromJson(reply->readAll());
        for (const auto &[name, value] : reply->rawHeaderPairs())
            response.headers.insert(name.toLower(), value);
        reply->deleteLater();
        return response;
    }

    // The legacy error body of the protocol notes (4.9) with its iothub-errorcode header.
    static void verifyErrorBody(const Response &response, int status, const QString &code)
    {
        QCOMPARE(response.status, status);
        QCOMPARE(response.errorCode(), code);
        const QJsonObject body = response.object();
        QCOMPARE(body.keys(), (QStringList{QStringLiteral("ExceptionMessage"), QStringLiteral("Message")}));
        QVERIFY2(
            body.value(QStringLiteral("Message")).toString().startsWith(QStringLiteral("ErrorCode:") + code + u';'),
            qPrintable(body.value(QStringLiteral("Message")).toString()));
        static const QRegularExpression tracking(
            QStringLiteral("^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\\d\\d/\\d\\d/\\d{4} \\d\\d:\\d\\d:\\d\\d$"));
        QVERIFY2(tracking.match(body.value(QStringLiteral("ExceptionMessage")).toString()).hasMatch(),
            qPrintable(body.value(QStringLiteral("ExceptionMessage")).toString()));
    }

    // Writes requests on one TLS connection, each once the one before was answered (or the server closed); what
    // arrived. A body announced but not sent is how a client that streams a large body looks.
    QByteArray exchange(const QList<QByteArray> &requests)
    {
        QSslSocket socket;
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates(QSslCertificate::fromPath(m_dir.filePath(QStringLiteral("hub/ca.pem"))));
        socket.setSslConfiguration(tls);
        socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), quint16(m_port));
        // The hub runs in this thread: wait with its events going, never with a blocking socket call.
        if (!QTest::qWaitFor(
                [&] { return socket.isEncrypted() || socket.state() == QAbstractSocket::UnconnectedState; }, 10000)
            || !socket.isEncrypted())
            return "no TLS: " + socket.errorString().toUtf8();
        QByteArray received;
        for (qsizetype i = 0; i < requests.size(); ++i) {
            socket.write(requests.at(i));
            (void)QTest::qWaitFor(
                [&] {
                    received += socket.readAll();
                    return received.count("HTTP/1.1 ") > i || socket.state() != QAbstractSocket::ConnectedState;
                },
                5000);
        }
        QTest::qWait(50);
        received += socket.readAll();
        return received;
    }

    QByteArray rawRequest(const QByteArray &method, const QByteArray &path, const QByteArray &auth,
        qint64 contentLength, const QByteArray &bodyStart = {})
    {
        return method + ' ' + path + "?api-version=2021-04-12 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + (auth.isEmpty() ? QByteArray() : "Authorization: " + auth + "\r\n")
            + "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(contentLength) + "\r\n\r\n"
            + bodyStart;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        startHub();
    }

    void apiVersionIsRequired()
    {
        verifyErrorBody(call("GET", QStringLiteral("/devices/x"), {}, QStringLiteral("owner"), {}, QString()), 400,
            QStringLiteral("InvalidProtocolVersion"));
        verifyErrorBody(
            call("GET", QStringLiteral("/devices/x"), {}, QStringLiteral("owner"), {}, QStringLiteral("1999-01-01")),
            400, QStringLiteral("InvalidProtocolVersion"));
    }

    void refusesBadCredentials()
    {
        const QString other = TestSupport::randomKey();
        const auto readKey = m_hub->registry().policy(QStringLiteral("registryRead"))->primaryKey;
        const auto deviceKey = m_hub->registry().policy(QStringLiteral("device"))->primaryKey;
        const QStringList refused{
            QString(), // no header at all
            QStringLiteral("Bearer abc"), token(QStringLiteral("iothubowner"), other), // wrong key
            token(QStringLiteral("iothubowner"), m_ownerKey, -600), // expired beyond the skew
            token(QStringLiteral("nosuchpolicy"), m_ownerKey), // unknown policy
            token(QStringLiteral("iothubowner"), m_ownerKey, 600,
                QStringLiteral("other.azure-devices.net")), // another hub
            token(QStringLiteral("device"), deviceKey), // DeviceConnect only
        };
        for (const QString &auth : refused) {
            const Response response
                = call("GET", QStringLiteral("/devices/x"), {}, auth.isEmpty() ? QStringLiteral("") : auth);
            verifyErrorBody(response, 401, QStringLiteral("IotHubUnauthorizedAccess"));
        }
        // registryRead may read but not write.
        const QString reader = token(QStringLiteral("registryRead"), readKey);
        QCOMPARE(call("GET", QStringLiteral("/statistics/devices"), {}, reader).status, 200);
        verifyErrorBody(call("PUT", QStringLiteral("/devices/r1"), QJsonDocument(QJsonObject{}), reader), 401,
            QStringLiteral("IotHubUnauthorizedAccess"));
        // Within the five minutes of clock skew a just-expired token still works.
        QCOMPARE(call("GET", QStringLiteral("/statistics/devices"), {},
                     token(QStringLiteral("iothubowner"), m_ownerKey, -60))
                     .status,
            200);
    }

    // A body is judged by its head before it is read: who may not call gets 401 whatever the size, a body
    // above the limit gets 413, on the first request of a connection and on any later one.
    void bodiesAreLimitedBeforeTheyAreRead()
    {
        const QByteArray owner = ownerToken().toUtf8();
        const QByteArray start(1000, ' ');
        const QByteArray tooLarge = exchange({rawRequest("PUT", "/devices/big-1", owner, 100'000'000, start)});
        QVERIFY2(tooLarge.startsWith("HTTP/1.1 413 "), tooLarge.left(300).constData());
        QVERIFY2(tooLarge.contains("iothub-errorcode: RequestEntityTooLarge"), tooLarge.constData());
        QVERIFY2(tooLarge.contains("ErrorCode:RequestEntityTooLarge;The request body of 100000000 bytes"),
            tooLarge.constData());

        const QByteArray stranger = exchange(
            {rawRequest("PUT", "/devices/big-1", "SharedAccessSignature sr=x&sig=y&se=1", 100'000'000, start)});
        QVERIFY2(stranger.startsWith("HTTP/1.1 401 "), stranger.left(300).constData());
        QVERIFY2(stranger.contains("iothub-errorcode: IotHubUnauthorizedAccess"), stranger.constData());
        const QByteArray anonymous = exchange({rawRequest("PUT", "/devices/big-1", {}, 5'000'000, start)});
        QVERIFY2(anonymous.startsWith("HTTP/1.1 401 "), anonymous.left(300).constData());

        // Keep-alive: a good request, then a too large one on the same connection.
        const QByteArray body = R"({"deviceId":"small-1"})";
        const QByteArray second = exchange({rawRequest("PUT", "/devices/small-1", owner, body.size(), body),
            rawRequest("PUT", "/devices/big-2", owner, 2'000'000, start)});
        QVERIFY2(second.startsWith("HTTP/1.1 200 "), second.left(300).constData());
        QVERIFY2(second.contains("HTTP/1.1 413 "), second.constData());
        QVERIFY(m_hub->registry().device(QStringLiteral("small-1")).has_value());
        QVERIFY(!m_hub->registry().device(QStringLiteral("big-2")).has_value());

        // A body of unknown length is refused; one just below the limit goes through.
        const QByteArray chunked
            = exchange({"PUT /devices/c?api-version=2021-04-12 HTTP/1.1\r\nHost: x\r\nAuthorization: " + owner
                + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"});
        QVERIFY2(chunked.startsWith("HTTP/1.1 411 "), chunked.left(300).constData());
        QJsonObject large{{QStringLiteral("deviceId"), QStringLiteral("large-1")},
            {QStringLiteral("padding"), QString(RestFrontDoor::defaultBodyLimit - 100, u'x')}};
        const Response near = call("PUT", QStringLiteral("/devices/large-1"), QJsonDocument(large));
        QVERIFY(near.status != 0 && near.status != 413); // judged by the registry, whatever it thinks of the padding
    }

    void deviceLifecycleWithEtags()
    {
        const Response created = call("PUT", QStringLiteral("/devices/life-1"),
            QJsonDocument(QJsonObject{{QStringLiteral("deviceId"), QStringLiteral("life-1")}}));
        QCOMPARE(created.status, 200);
        const QString etag = created.object().value(QStringLiteral("etag")).toString();
        QCOMPARE(etag, QStringLiteral("MA=="));
        QCOMPARE(created.headers.value("etag"), QByteArray("\"MA==\""));
        QCOMPARE(created.object().value(QStringLiteral("connectionStateUpdatedTime")).toString(),
            QStringLiteral("0001-01-01T00:00:00"));

        verifyErrorBody(call("PUT", QStringLiteral("/devices/life-1"), QJsonDocument(QJsonObject{})), 409,
            QStringLiteral("DeviceAlreadyExists"));
        verifyErrorBody(call("PUT", QStringLiteral("/devices/life-1"),
                            QJsonDocument(QJsonObject{{QStringLiteral("status"), QStringLiteral("disabled")}}),
                            QStringLiteral("owner"), {{"If-Match", "\"bm9wZQ==\""}}),
            412, QStringLiteral("PreconditionFailed"));
        // Unquoted If-Match (the C service client's style) is accepted too.
        const Response updated = call("PUT", QStringLiteral("/devices/life-1"),
            QJsonDocument(QJsonObject{{QStringLiteral("status"), QStringLiteral("disabled")}}), QStringLiteral("owner"),
            {{"If-Match", etag.toLatin1()}});
        QCOMPARE(updated.status, 200);
        QCOMPARE(updated.object().value(QStringLiteral("status")).toString(), QStringLiteral("disabled"));
        QCOMPARE(updated.object().value(QStringLiteral("etag")).toString(), QStringLiteral("MQ=="));

        verifyErrorBody(call("PUT", QStringLiteral("/devices/ghost"), QJsonDocument(QJsonObject{}),
                            QStringLiteral("owner"), {{"If-Match", "*"}}),
            404, QStringLiteral("DeviceNotFound"));
        verifyErrorBody(
            call("DELETE", QStringLiteral("/devices/life-1"), {}, QStringLiteral("owner"), {{"If-Match", "\"MA==\""}}),
            412, QStringLiteral("PreconditionFailed"));
        QCOMPARE(call("DELETE", QStringLiteral("/devices/life-1"), {}, QStringLiteral("owner"), {{"If-Match", "\"*\""}})
                     .status,
            204);
        verifyErrorBody(call("GET", QStringLiteral("/devices/life-1")), 404, QStringLiteral("DeviceNotFound"));
        verifyErrorBody(
            call("DELETE", QStringLiteral("/devices/life-1"), {}, QStringLiteral("owner"), {{"If-Match", "*"}}), 404,
            QStringLiteral("DeviceNotFound"));
    }

    void invalidInputIsArgumentInvalid()
    {
        // A device id with a space, percent-encoded in the path.
        verifyErrorBody(call("PUT", QStringLiteral("/devices/has space"), QJsonDocument(QJsonObject{})), 400,
            QStringLiteral("ArgumentInvalid"));
        verifyErrorBody(call("PUT", QStringLiteral("/devices/k1"),
                            QJsonDocument(QJsonObject{{QStringLiteral("authentication"),
                                QJsonObject{{QStringLiteral("type"), QStringLiteral("sas")},
                                    {QStringLiteral("symmetricKey"),
                                        QJsonObject{{QStringLiteral("primaryKey"), QStringLiteral("short")}}}}}})),
            400, QStringLiteral("ArgumentInvalid"));
        verifyErrorBody(call("PUT", QStringLiteral("/devices/x1"),
                            QJsonDocument(QJsonObject{{QStringLiteral("authentication"),
                                QJsonObject{{QStringLiteral("type"), QStringLiteral("selfSigned")},
                                    {QStringLiteral("x509Thumbprint"),
                                        QJsonObject{{QStringLiteral("primaryThumbprint"), QStringLiteral("XYZ")}}}}}})),
            400, QStringLiteral("ArgumentInvalid"));
        verifyErrorBody(call("POST", QStringLiteral("/devices/query"),
                            QJsonDocument(QJsonObject{{QStringLiteral("query"), QStringLiteral("SELECT FROM")}})),
            400, QStringLiteral("ArgumentInvalid"));
        // An id with characters URLs must escape survives the round trip.
        const QString special = QStringLiteral("a:b+c%d#e");
        const Response created
            = call("PUT", QStringLiteral("/devices/") + QString::fromLatin1(QUrl::toPercentEncoding(special)),
                QJsonDocument(QJsonObject{}));
        QCOMPARE(created.object().value(QStringLiteral("deviceId")).toString(), special);
    }

    void twinPatchVersionsAndMethodsOffline()
    {
        call("PUT", QStringLiteral("/devices/twin-1"), QJsonDocument(QJsonObject{}));
        const Response twin = call("GET", QStringLiteral("/twins/twin-1"));
        QCOMPARE(twin.status, 200);
        QCOMPARE(twin.object().value(QStringLiteral("etag")).toString(), QStringLiteral("AAAAAAAAAAE="));
        const QJsonObject patch{
            {QStringLiteral("tags"), QJsonObject{{QStringLiteral("site"), QStringLiteral("bench-1")}}},
            {QStringLiteral("properties"),
                QJsonObject{{QStringLiteral("desired"),
                    QJsonObject{{QStringLiteral("interval"), 30},
                        {QStringLiteral("nested"), QJsonObject{{QStringLiteral("a"), 1}}}}}}}};
        const Response patched = call("PATCH", QStringLiteral("/twins/twin-1"), QJsonDocument(patch));
        QCOMPARE(patched.status, 200);
        const QJsonObject desired
            = patched.object()[QStringLiteral("properties")][QStringLiteral("desired")].toObject();
        QCOMPARE(desired.value(QStringLiteral("interval")).toInt(), 30);
        QCOMPARE(desired.value(QStringLiteral("$version")).toInt(), 2);
        QCOMPARE(desired[QStringLiteral("$metadata")][QStringLiteral("interval")][QStringLiteral("$lastUpdatedVersion")]
                     .toInt(),
            2);
        QVERIFY(!desired[QStringLiteral("$metadata")][QStringLiteral("$lastUpdated")].toString().isEmpty());

        // null removes a key; a stale ETag is refused.
        const QJsonObject removal{{QStringLiteral("properties"),
            QJsonObject{{QStringLiteral("desired"), QJsonObject{{QStringLiteral("nested"), QJsonValue::Null}}}}}};
        const Response removed = call("PATCH", QStringLiteral("/twins/twin-1"), QJsonDocument(removal));
        QVERIFY(!removed.object()[QStringLiteral("properties")][QStringLiteral("desired")].toObject().contains(
            QStringLiteral("nested")));
        verifyErrorBody(call("PATCH", QStringLiteral("/twins/twin-1"), QJsonDocument(removal), QStringLiteral("owner"),
                            {{"If-Match", "\"AAAAAAAAAAE=\""}}),
            412, QStringLiteral("PreconditionFailed"));
        verifyErrorBody(
            call("PATCH", QStringLiteral("/twins/twin-1"),
                QJsonDocument(QJsonObject{{QStringLiteral("tags"), QJsonObject{{QStringLiteral("bad.key"), 1}}}})),
            400, QStringLiteral("ArgumentInvalid"));

        const QJsonObject method{
            {QStringLiteral("methodName"), QStringLiteral("ping")}, {QStringLiteral("responseTimeoutInSeconds"), 5}};
        verifyErrorBody(call("POST", QStringLiteral("/twins/twin-1/methods"), QJsonDocument(method)), 404,
            QStringLiteral("DeviceNotOnline"));
        verifyErrorBody(call("POST", QStringLiteral("/twins/nobody/methods"), QJsonDocument(method)), 404,
            QStringLiteral("DeviceNotFound"));
    }

    void queryPagesThroughContinuation()
    {
        for (int i = 0; i < 25; ++i)
            call("PUT", QStringLiteral("/devices/page-%1").arg(i, 2, 10, QLatin1Char('0')),
                QJsonDocument(QJsonObject{}));
        QStringList seen;
        QByteArray continuation;
        int pages = 0;
        do {
            QList<std::pair<QByteArray, QByteArray>> headers{{"x-ms-max-item-count", "10"}};
            if (!continuation.isEmpty())
                headers.append({"x-ms-continuation", continuation});
            const Response page = call("POST", QStringLiteral("/devices/query"),
                QJsonDocument(QJsonObject{{QStringLiteral("query"),
                    QStringLiteral("SELECT * FROM devices WHERE STARTSWITH(deviceId, 'page-')")}}),
                QStringLiteral("owner"), headers);
            QCOMPARE(page.status, 200);
            QCOMPARE(page.headers.value("x-ms-item-type"), QByteArray("Twin"));
            for (const QJsonValue &twin : page.body.array())
                seen.append(twin[QStringLiteral("deviceId")].toString());
            continuation = page.headers.value("x-ms-continuation");
            ++pages;
        } while (!continuation.isEmpty() && pages < 10);
        QCOMPARE(pages, 3);
        QCOMPARE(seen.size(), 25);
        QCOMPARE(seen.first(), QStringLiteral("page-00"));
        QCOMPARE(seen.last(), QStringLiteral("page-24"));

        const Response count = call("POST", QStringLiteral("/devices/query"),
            QJsonDocument(QJsonObject{{QStringLiteral("query"),
                QStringLiteral("SELECT COUNT() AS n FROM devices WHERE STARTSWITH(deviceId, 'page-')")}}));
        QCOMPARE(count.headers.value("x-ms-item-type"), QByteArray("Raw"));
        QCOMPARE(count.body.array().at(0)[QStringLiteral("n")].toInt(), 25);
    }

    void keepsDevicesAndTwinsAcrossRestart()
    {
        call("PUT", QStringLiteral("/devices/kept"), QJsonDocument(QJsonObject{}));
        call("PATCH", QStringLiteral("/twins/kept"),
            QJsonDocument(QJsonObject{{QStringLiteral("tags"), QJsonObject{{QStringLiteral("batch"), 7}}}}));
        const Response before = call("GET", QStringLiteral("/twins/kept"));
        const QString ca = QString::fromLatin1(
            QSslCertificate::fromPath(m_dir.filePath(QStringLiteral("hub/ca.pem"))).first().digest().toHex());
        startHub();
        const Response after = call("GET", QStringLiteral("/twins/kept"));
        QCOMPARE(after.status, 200);
        QCOMPARE(after.object().value(QStringLiteral("tags")), before.object().value(QStringLiteral("tags")));
        QCOMPARE(after.object().value(QStringLiteral("etag")), before.object().value(QStringLiteral("etag")));
        // The CA (which clients trust) is kept too.
        QCOMPARE(QString::fromLatin1(
                     QSslCertificate::fromPath(m_dir.filePath(QStringLiteral("hub/ca.pem"))).first().digest().toHex()),
            ca);
    }

    void throttlesAboveTheLimit()
    {
        startHub(3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(call("GET", QStringLiteral("/statistics/devices")).status, 200);
        const Response throttled = call("GET", QStringLiteral("/statistics/devices"));
        verifyErrorBody(throttled, 429, QStringLiteral("ThrottlingException"));
        // Three a minute: the next one passes in about 20 s, and Retry-After says so.
        const int retryAfter = throttled.headers.value("retry-after").toInt();
        QVERIFY2(retryAfter >= 19 && retryAfter <= 20, throttled.headers.value("retry-after").constData());
        startHub(); // no throttle for the rest
    }

    void brokerDiesWithAKilledSandbox()
    {
        // A sandbox that is killed (or a test that aborts) cannot stop its mosquitto; the kernel must.
        const QString data = m_dir.filePath(QStringLiteral("killed"));
        QProcess sandbox;
        sandbox.start(TestSupport::buildPath(QStringLiteral("sandbox/hub/onboarder-sandbox")),
            {QStringLiteral("--data"), data, QStringLiteral("--ready-json")});
        QVERIFY(sandbox.waitForReadyRead(20000));
        const auto brokerPids = [&data] {
            QList<qint64> pids;
            const QByteArray config = (data + QStringLiteral("/mosquitto.conf")).toUtf8();
            for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
                QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(entry));
                if (entry.toLongLong() > 0 && cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains(config))
                    pids.append(entry.toLongLong());
            }
            return pids;
        };
        QCOMPARE(brokerPids().size(), 1);
        ::kill(pid_t(sandbox.processId()), SIGKILL);
        QVERIFY(sandbox.waitForFinished(5000));
        QTRY_VERIFY_WITH_TIMEOUT(brokerPids().isEmpty(), 5000);
    }

    void executableShutsDownCleanlyOnSigterm()
    {
        QProcess sandbox;
        sandbox.start(TestSupport::buildPath(QStringLiteral("sandbox/hub/onboarder-sandbox")),
            {QStringLiteral("--data"), m_dir.filePath(QStringLiteral("exe")), QStringLiteral("--ready-json")});
        QVERIFY(sandbox.waitForReadyRead(20000));
        const QJsonObject ready = QJsonDocument::fromJson(sandbox.readLine()).object();
        QVERIFY(ready.value(QStringLiteral("restPort")).toInt() > 0);
        QVERIFY(ready.value(QStringLiteral("connectionString"))
                    .toString()
                    .startsWith(QStringLiteral("HostName=127.0.0.1;SharedAccessKeyName=iothubowner;")));
        QVERIFY(QFile::exists(ready.value(QStringLiteral("caFile")).toString()));
        QCOMPARE(QFileInfo(m_dir.filePath(QStringLiteral("exe/ca-key.pem"))).permissions()
                & (QFileDevice::ReadOther | QFileDevice::ReadGroup),
            QFileDevice::Permissions());
        ::kill(pid_t(sandbox.processId()), SIGTERM);
        QVERIFY(sandbox.waitForFinished(10000));
        QCOMPARE(sandbox.exitStatus(), QProcess::NormalExit);
        QCOMPARE(sandbox.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_SandboxRegistry)
#include "tst_sandboxregistry.moc"
