// The sandbox DPS's parsers of untrusted bytes (sandbox/hub/dps.h, dpsmqttsession.h). The first input byte chooses
// what the rest is, and how it is given:
//   0, 1  an enrollment's or an enrollment group's body as a service PUTs it: Dps::parseEnrollment. What it refuses
//         says why; what it accepts is normalised (an attestation of type x509 or symmetricKey, a provisioningStatus
//         of enabled or disabled), and normalising its own output again changes nothing (keys, certificates, defaults
//         stay as they were);
//   2     a device's registration body: Dps::parseRegistrationRequest. What it accepts is at most a payload;
//   3     a PUT through the service API onto a stored X.509 enrollment (a body without certificates keeps the stored
//         ones; when the byte's value / 5 is odd, the first line is the request's If-Match): answered 200, 400 or
//         412, an error body exactly when it is no 200, and what was accepted reads back as answered;
//   4     a device's MQTT bytes to a DpsMqttSession, in pieces of 1 + (the byte's value / 5) bytes: a closed session
//         answers nothing more.
// After 3 and 4, a well-behaved device is still served: connected, subscribed and registered (202 with retry-after),
// and in the hub. Each of those inputs starts from the same DPS state (fixed ID scope and keys, so that the seed
// corpus's MQTT streams sign in; the enrollments fuzz-device, symmetric key, and fuzz-1, X.509) and an empty hub.
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "devicequery.h"
#include "dps.h"
#include "dpsmqttsession.h"
#include "fuzzcheck.h"
#include "hub/sastoken.h"
#include "registry.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

// What the seed corpus's streams were made with (the same in the corpus's fuzz-device stream).
constexpr auto idScope = "0ne0000F022";
constexpr auto deviceKey = "ZnV6ei1kZXZpY2UtcHJpbWFyeS1rZXktMzItYnl0ZXM=";
constexpr auto deviceSecondaryKey = "ZnV6ei1kZXZpY2Utc2Vjb25kYXJ5LWtleS0zMi1ieXQ=";
constexpr qint64 tokenExpiry = 4102444800; // 2100-01-01: the tokens outlive any fuzzing run

[[noreturn]] void harnessFailed(const char *what)
{
    std::fprintf(stderr, "fuzz_dps: %s\n", what);
    std::abort();
}

QByteArray field(const QByteArray &bytes)
{
    return QByteArray(1, char(bytes.size() >> 8)) + char(bytes.size() & 0xff) + bytes;
}

QByteArray packet(quint8 header, const QByteArray &body)
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

// A JSON string's inside: the PEM with its line ends escaped.
QByteArray jsonText(const QByteArray &text)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("c"), QString::fromLatin1(text)}})
        .toJson(QJsonDocument::Compact)
        .mid(6)
        .chopped(2);
}

// A DPS and its hub in a temporary folder (in memory where /dev/shm is there: the DPS writes its state on every
// change), put back to the same state before each input that changes it.
struct Harness
{
    QTemporaryDir dir{QDir(QStringLiteral("/dev/shm")).exists()
            ? QStringLiteral("/dev/shm/fuzz_dps-XXXXXX")
            : QDir::tempPath() + QStringLiteral("/fuzz_dps-XXXXXX")};
    Registry registry;
    std::optional<Dps> dps;
    QByteArray state; // dps.json as every input starts from it
    Dps::ServiceRequest put; // an authorised PUT of the enrollment fuzz-1
    QByteArray goodStream; // the well-behaved device: CONNECT, SUBSCRIBE, register, ask for an unknown operation

    QString statePath() const { return dir.filePath(QStringLiteral("dps.json")); }

    void openDps()
    {
        dps.emplace(registry, QStringLiteral("127.0.0.1"));
        if (!dps->open(statePath(), QStringLiteral("127.0.0.2")))
            harnessFailed("cannot open the DPS state");
    }

    Harness()
    {
        if (!dir.isValid() || !registry.open(dir.filePath(QStringLiteral("registry.db"))))
            harnessFailed("no registry");
        QFile file(statePath());
        if (!file.open(QIODevice::WriteOnly)
            || !file.write(QByteArray(R"({"idScope":")") + idScope
                + R"(","policy":{"name":"provisioningserviceowner","primaryKey":"b3duZXItcHJpbWFyeS1rZXktb2YtdGhlLWZ1enotZHBzLQ==","secondaryKey":"b3duZXItc2Vjb25kYXJ5LWtleS1vZi10aGUtZnV6ei1kcHM="}})"))
            harnessFailed("cannot write the DPS state");
        file.close();
        openDps();

        put.method = "PUT";
        put.apiVersion = QStringLiteral("2021-10-01");
        put.authorization = SasToken::create(QStringLiteral("127.0.0.2"),
            dps->policyKey(QLatin1String(Dps::OwnerPolicy)), tokenExpiry, QLatin1String(Dps::OwnerPolicy))
                                ->toString()
                                .toUtf8();
        Dps::ServiceRequest device = put;
        device.path = {QStringLiteral("enrollments"), QStringLiteral("fuzz-device")};
        device.body = QByteArray(R"({"attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":")") + deviceKey
            + R"(","secondaryKey":")" + deviceSecondaryKey + R"("}}})";
        if (dps->service(device).status != 200)
            harnessFailed("the enrollment fuzz-device was refused");
        const auto key = KeyPair::generate(KeyPair::Type::EcP256);
        if (!key)
            harnessFailed("no key for the enrollment fuzz-1");
        const auto certificate
            = Certificate::selfSigned(*key, {QStringLiteral("fuzz-1"), {}, {}, 2, Certificate::Usage::Client});
        if (!certificate)
            harnessFailed("no certificate for the enrollment fuzz-1");
        put.path = {QStringLiteral("enrollments"), QStringLiteral("fuzz-1")};
        Dps::ServiceRequest x509 = put;
        x509.body
            = R"({"registrationId":"fuzz-1","attestation":{"type":"x509","x509":{"clientCertificates":{"primary":{"certificate":")"
            + jsonText(certificate->toPem()) + R"("}}}}})";
        if (dps->service(x509).status != 200)
            harnessFailed("the enrollment fuzz-1 was refused");
        QFile saved(statePath());
        if (!saved.open(QIODevice::ReadOnly))
            harnessFailed("cannot read the DPS state");
        state = saved.readAll();

        const QString sas
            = SasToken::create(QString::fromLatin1(idScope) + QStringLiteral("/registrations/fuzz-device"),
                QString::fromLatin1(deviceKey), tokenExpiry, QStringLiteral("registration"))
                  ->toString();
        const QByteArray user = QByteArray(idScope) + "/registrations/fuzz-device/api-version=2019-03-31";
        goodStream = packet(0x10,
                         field("MQTT") + char(4) + char(0xc2) + char(0) + char(60) + field("fuzz-device") + field(user)
                             + field(sas.toUtf8()))
            + packet(0x82, QByteArray::fromHex("0001") + field("$dps/registrations/res/#") + char(1))
            + packet(0x32,
                field("$dps/registrations/PUT/iotdps-register/?$rid=1") + QByteArray::fromHex("0002")
                    + R"({"registrationId":"fuzz-device"})")
            + packet(0x30, field("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=nope") + " ")
            + packet(0xc0, {}) + packet(0xe0, {});
    }

    // The DPS state the input starts from, and a hub without devices (a registration creates one).
    void reset()
    {
        if (registry.statistics().total > 0) {
            static const auto all = DeviceQuery::parse(QStringLiteral("SELECT * FROM devices"));
            const auto page = registry.query(*all, 1000, {});
            if (!page)
                harnessFailed("cannot list the hub's devices");
            for (const QJsonValue &twin : page->items)
                (void)registry.deleteDevice(
                    twin.toObject().value(QStringLiteral("deviceId")).toString(), QStringLiteral("*"));
        }
        QFile file(statePath());
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(state) != state.size())
            harnessFailed("cannot write the DPS state");
        file.close();
        openDps();
    }

    void checkStillServed()
    {
        DpsMqttSession session(*dps, {});
        const QByteArray out = session.feed(goodStream);
        FUZZ_CHECK(out.startsWith(QByteArray::fromHex("20020000")));
        FUZZ_CHECK(out.contains("$dps/registrations/res/202/?$rid=1&retry-after=1"));
        FUZZ_CHECK(out.contains("$dps/registrations/res/404/?$rid=2"));
        FUZZ_CHECK(out.contains(QByteArray::fromHex("d000")));
        FUZZ_CHECK(registry.device(QStringLiteral("fuzz-device")).has_value());
    }
};

Harness *harness = nullptr;

void enrollment(const QByteArray &body, bool group)
{
    const auto parsed = Dps::parseEnrollment(body, QStringLiteral("fuzz-1"), group);
    if (!parsed) {
        FUZZ_CHECK(!parsed.error().message.isEmpty());
        return;
    }
    const QString type
        = parsed->value(QStringLiteral("attestation")).toObject().value(QStringLiteral("type")).toString();
    const QString status = parsed->value(QStringLiteral("provisioningStatus")).toString();
    FUZZ_CHECK(type == QStringLiteral("x509") || type == QStringLiteral("symmetricKey"));
    FUZZ_CHECK(status == QStringLiteral("enabled") || status == QStringLiteral("disabled"));
    const auto again
        = Dps::parseEnrollment(QJsonDocument(*parsed).toJson(QJsonDocument::Compact), QStringLiteral("fuzz-1"), group);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *parsed);
}

void registrationRequest(const QByteArray &body)
{
    const auto parsed = Dps::parseRegistrationRequest(body, QStringLiteral("fuzz-1"));
    if (parsed && !parsed->isEmpty())
        FUZZ_CHECK(parsed->size() == 1 && parsed->contains(QStringLiteral("payload")));
}

void servicePut(const QByteArray &bytes, bool withIfMatch)
{
    Dps::ServiceRequest update = harness->put;
    update.body = bytes;
    if (withIfMatch) {
        const qsizetype end = bytes.indexOf('\n');
        update.ifMatch = end < 0 ? bytes : bytes.left(end);
        update.body = end < 0 ? QByteArray() : bytes.mid(end + 1);
    }
    const Dps::Answer answer = harness->dps->service(update);
    FUZZ_CHECK(answer.status == 200 || answer.status == 400 || answer.status == 412);
    FUZZ_CHECK(answer.object().value(QStringLiteral("errorCode")).isUndefined() == (answer.status == 200));
    if (answer.status == 200) {
        Dps::ServiceRequest get = harness->put;
        get.method = "GET";
        get.body.clear();
        FUZZ_CHECK(harness->dps->service(get).body == answer.body);
    }
}

void mqttSession(const QByteArray &stream, qsizetype pieceSize)
{
    DpsMqttSession session(*harness->dps, {});
    for (qsizetype at = 0; at < stream.size(); at += pieceSize) {
        const bool wasClosed = session.closed();
        const QByteArray out = session.feed(stream.mid(at, pieceSize));
        FUZZ_CHECK(!wasClosed || out.isEmpty());
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication *application = new QCoreApplication(*argc, *argv); // Qt SQL loads its driver through it
    Q_UNUSED(application)
    static Harness made;
    harness = &made;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const int what = data[0] % 5;
    const int how = data[0] / 5;
    const QByteArray bytes(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    switch (what) {
    case 0:
    case 1: enrollment(bytes, what == 1); break;
    case 2: registrationRequest(bytes); break;
    default:
        harness->reset();
        if (what == 3)
            servicePut(bytes, how % 2 == 1);
        else
            mqttSession(bytes, 1 + how);
        harness->checkStillServed();
        break;
    }
    return 0;
}
