// Feeds the sandbox DPS's parsers of untrusted bytes with mutated copies of real inputs and checks that nothing
// crashes and that they keep their promises:
//   - Dps::parseEnrollment (service PUT bodies of enrollments and groups): what it accepts is normalised, and
//     normalising its own output again changes nothing (keys, certificates, defaults stay as they were);
//   - Dps::parseRegistrationRequest (a device's registration body): accepted means at most a payload;
//   - DpsMqttSession (a device's MQTT bytes, fed whole and in random chunks): a closed session answers
//     nothing more, and a well-behaved device is still registered afterwards.
// Usage: fuzz_dps [--cases N] [--seed S]
#include "credentials/certificate.h"
#include "credentials/keypair.h"
#include "dps.h"
#include "dpsmqttsession.h"
#include "hub/sastoken.h"
#include "registry.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <cstdio>
#include <cstdlib>

using namespace Onboarder;
using namespace Onboarder::Sandbox;

namespace {

[[noreturn]] void failed(const char *what, quint64 seed, qint64 caseNumber)
{
    std::fprintf(stderr, "fuzz_dps: %s (seed %llu, case %lld)\n", what, static_cast<unsigned long long>(seed),
        static_cast<long long>(caseNumber));
    std::abort();
}

QByteArray mutate(QByteArray data, const QList<QByteArray> &corpus, QRandomGenerator &random)
{
    const int edits = random.bounded(1, 8);
    for (int i = 0; i < edits; ++i) {
        const qsizetype at = data.isEmpty() ? 0 : random.bounded(data.size() + 1);
        switch (random.bounded(8)) {
        case 0: data.insert(at, char(random.bounded(256))); break;
        case 1:
            if (at < data.size())
                data.remove(at, random.bounded(1, 20));
            break;
        case 2:
            if (at < data.size())
                data[at] = char(random.bounded(256));
            break;
        case 3: data.insert(at, corpus.at(random.bounded(corpus.size())).left(random.bounded(1, 200))); break;
        case 4: data.insert(at, random.bounded(2) ? QByteArray("null") : QByteArray("{\"type\":\"x509\"}")); break;
        case 5: data.insert(at, random.bounded(2) ? QByteArray("\"") : QByteArray("}")); break;
        case 6: data.truncate(at); break;
        case 7:
            if (at < data.size())
                data[at] = char(quint8(data.at(at)) ^ (1 << random.bounded(8)));
            break;
        }
    }
    return data;
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

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    qint64 cases = 2000;
    quint64 seed = QRandomGenerator::system()->generate64();
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QStringLiteral("--cases"))
            cases = args[i + 1].toLongLong();
        else if (args[i] == QStringLiteral("--seed"))
            seed = args[i + 1].toULongLong();
    }
    QRandomGenerator random(seed);
    std::printf(
        "fuzz_dps: %lld cases, seed %llu\n", static_cast<long long>(cases), static_cast<unsigned long long>(seed));

    QTemporaryDir dir;
    Registry registry;
    if (!dir.isValid() || !registry.open(dir.filePath(QStringLiteral("registry.db"))))
        failed("no registry", seed, 0);
    Dps dps(registry, QStringLiteral("127.0.0.1"));
    if (!dps.open(dir.filePath(QStringLiteral("dps.json")), QStringLiteral("127.0.0.2")))
        failed("no DPS state", seed, 0);

    // Seeds: enrollments and groups of every kind the sandbox takes, with real certificates.
    auto key = KeyPair::generate(KeyPair::Type::EcP256);
    auto device = Certificate::selfSigned(*key, {QStringLiteral("fuzz-device"), {}, {}, 2, Certificate::Usage::Client});
    auto ca = Certificate::selfSigned(
        *key, {QStringLiteral("Fuzz CA"), {}, {}, 2, Certificate::Usage::CertificateAuthority});
    if (!device || !ca)
        failed("no seed certificates", seed, 0);
    const QByteArray devicePem = QJsonDocument(QJsonObject{{QStringLiteral("c"), QString::fromLatin1(device->toPem())}})
                                     .toJson(QJsonDocument::Compact)
                                     .mid(6)
                                     .chopped(2);
    const QByteArray caPem = QJsonDocument(QJsonObject{{QStringLiteral("c"), QString::fromLatin1(ca->toPem())}})
                                 .toJson(QJsonDocument::Compact)
                                 .mid(6)
                                 .chopped(2);
    const QList<QByteArray> enrollments{
        R"({"registrationId":"fuzz-1","attestation":{"type":"symmetricKey"}})",
        R"({"registrationId":"fuzz-1","deviceId":"d1","attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","secondaryKey":null}},"provisioningStatus":"disabled","reprovisionPolicy":{"updateHubAssignment":true,"migrateDeviceData":false},"initialTwin":{"tags":{"a":1},"properties":{"desired":{"b":[1,2]}}},"capabilities":{"iotEdge":true},"allocationPolicy":"hashed"})",
        R"({"registrationId":"fuzz-1","attestation":{"type":"x509","x509":{"clientCertificates":{"primary":{"certificate":")"
            + devicePem + R"("}}}}})",
        R"({"attestation":{"type":"tpm","tpm":{"endorsementKey":"AAAA"}}})",
    };
    const QList<QByteArray> groups{
        R"({"enrollmentGroupId":"fuzz-1","attestation":{"type":"x509","x509":{"signingCertificates":{"primary":{"certificate":")"
            + caPem + R"("},"secondary":null}}}})",
        R"({"enrollmentGroupId":"fuzz-1","attestation":{"type":"symmetricKey","symmetricKey":{}},"initialTwin":{}})",
    };
    const QList<QByteArray> requests{
        R"({"registrationId":"fuzz-1"})", R"({"registrationId":"fuzz-1","payload":{"a":[1,{"b":null}]}})", "", " "};

    // A well-behaved device: an individual symmetric-key enrollment, its MQTT conversation.
    Dps::ServiceRequest put;
    put.method = "PUT";
    put.path = {QStringLiteral("enrollments"), QStringLiteral("fuzz-device")};
    put.apiVersion = QStringLiteral("2021-10-01");
    put.authorization = SasToken::create(QStringLiteral("127.0.0.2"), dps.policyKey(QLatin1String(Dps::OwnerPolicy)),
        QDateTime::currentSecsSinceEpoch() + 3600, QLatin1String(Dps::OwnerPolicy))
                            ->toString()
                            .toUtf8();
    put.body = R"({"attestation":{"type":"symmetricKey"}})";
    const Dps::Answer enrolled = dps.service(put);
    if (enrolled.status != 200)
        failed("the seed enrollment was refused", seed, 0);
    const QString deviceKey = enrolled.object()
                                  .value(QStringLiteral("attestation"))
                                  .toObject()
                                  .value(QStringLiteral("symmetricKey"))
                                  .toObject()
                                  .value(QStringLiteral("primaryKey"))
                                  .toString();
    const QString sas = SasToken::create(dps.idScope() + QStringLiteral("/registrations/fuzz-device"), deviceKey,
        QDateTime::currentSecsSinceEpoch() + 3600, QStringLiteral("registration"))
                            ->toString();
    const QByteArray user
        = (dps.idScope() + QStringLiteral("/registrations/fuzz-device/api-version=2019-03-31")).toUtf8();
    const QByteArray goodStream = packet(0x10,
                                      field("MQTT") + char(4) + char(0xc2) + char(0) + char(60) + field("fuzz-device")
                                          + field(user) + field(sas.toUtf8()))
        + packet(0x82, QByteArray::fromHex("0001") + field("$dps/registrations/res/#") + char(1))
        + packet(0x32,
            field("$dps/registrations/PUT/iotdps-register/?$rid=1") + QByteArray::fromHex("0002")
                + R"({"registrationId":"fuzz-device"})")
        + packet(0x30, field("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=nope") + " ")
        + packet(0xc0, {}) + packet(0xe0, {});
    const QList<QByteArray> streams{goodStream};

    QList<QByteArray> corpus = enrollments + groups + requests + streams;
    qint64 accepted = 0, refused = 0, closedSessions = 0;
    for (qint64 n = 1; n <= cases; ++n) {
        const int what = random.bounded(5);
        if (what <= 1) {
            const bool group = what == 1;
            const QByteArray seedBody
                = group ? groups.at(random.bounded(groups.size())) : enrollments.at(random.bounded(enrollments.size()));
            const QByteArray body = random.bounded(5) == 0 ? seedBody : mutate(seedBody, corpus, random);
            const auto parsed = Dps::parseEnrollment(body, QStringLiteral("fuzz-1"), group);
            if (!parsed) {
                ++refused;
                if (parsed.error().message.isEmpty())
                    failed("a refusal without a message", seed, n);
                continue;
            }
            ++accepted;
            const QString type
                = parsed->value(QStringLiteral("attestation")).toObject().value(QStringLiteral("type")).toString();
            const QString status = parsed->value(QStringLiteral("provisioningStatus")).toString();
            if ((type != QStringLiteral("x509") && type != QStringLiteral("symmetricKey"))
                || (status != QStringLiteral("enabled") && status != QStringLiteral("disabled")))
                failed("an accepted enrollment with an unknown type or status", seed, n);
            const auto again = Dps::parseEnrollment(
                QJsonDocument(*parsed).toJson(QJsonDocument::Compact), QStringLiteral("fuzz-1"), group);
            if (!again || *again != *parsed)
                failed("normalising an accepted enrollment again changed it", seed, n);
        } else if (what == 2) {
            const QByteArray body = mutate(requests.at(random.bounded(requests.size())), corpus, random);
            const auto parsed = Dps::parseRegistrationRequest(body, QStringLiteral("fuzz-1"));
            if (parsed && !parsed->isEmpty() && (parsed->size() != 1 || !parsed->contains(QStringLiteral("payload"))))
                failed("an accepted registration request with more than a payload", seed, n);
        } else if (what == 3) {
            // Through the service API onto a stored X.509 enrollment (a body without certificates keeps the
            // stored ones): 200, 400 or 412, and what was accepted reads back.
            Dps::ServiceRequest update = put;
            update.path = {QStringLiteral("enrollments"), QStringLiteral("fuzz-1")};
            update.body = mutate(enrollments.at(random.bounded(enrollments.size())), corpus, random);
            if (random.bounded(4) == 0)
                update.ifMatch = mutate("\"1\"", corpus, random);
            const Dps::Answer answer = dps.service(update);
            if (answer.status != 200 && answer.status != 400 && answer.status != 412)
                failed("a PUT answered neither 200, 400 nor 412", seed, n);
            if (answer.object().value(QStringLiteral("errorCode")).isUndefined() == (answer.status != 200))
                failed("an answer whose body does not match its status", seed, n);
            Dps::ServiceRequest get = put;
            get.method = "GET";
            get.path = update.path;
            get.body.clear();
            if (answer.status == 200 && dps.service(get).body != answer.body)
                failed("an accepted enrollment does not read back as answered", seed, n);
        } else {
            const QByteArray stream = mutate(goodStream, corpus, random);
            DpsMqttSession session(dps, {});
            for (qsizetype at = 0; at < stream.size();) {
                const qsizetype chunk = random.bounded(1, 64);
                const bool wasClosed = session.closed();
                const QByteArray out = session.feed(stream.mid(at, chunk));
                if (wasClosed && !out.isEmpty())
                    failed("a closed session answered", seed, n);
                at += chunk;
            }
            closedSessions += session.closed();
        }
    }

    // Still serving: the well-behaved device is connected, subscribed, and registered (202 with retry-after).
    DpsMqttSession session(dps, {});
    const QByteArray out = session.feed(goodStream);
    if (!out.startsWith(QByteArray::fromHex("20020000"))
        || !out.contains("$dps/registrations/res/202/?$rid=1&retry-after=1")
        || !out.contains("$dps/registrations/res/404/?$rid=2") || !out.contains(QByteArray::fromHex("d000")))
        failed("the well-behaved device was not served after fuzzing", seed, cases);
    if (!registry.device(QStringLiteral("fuzz-device")))
        failed("the well-behaved device is not in the hub", seed, cases);
    std::printf("fuzz_dps: ok (%lld enrollments accepted, %lld refused, %lld MQTT sessions ended by the DPS)\n",
        static_cast<long long>(accepted), static_cast<long long>(refused), static_cast<long long>(closedSessions));
    return 0;
}
