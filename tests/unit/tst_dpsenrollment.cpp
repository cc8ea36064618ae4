// DpsEnrollment and DpsAssignment: what the front ends learn from an enrollment, a group and a registration without
// reading DPS's JSON themselves, the keys masked for showing, an initial twin as a person writes it, and the records
// onboarder-cli prints (docs/cli.md).
#include "dps/dpsenrollment.h"
#include "dps/dpsregistration.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Onboarder;

namespace {

QJsonObject parsed(const char *json)
{
    return QJsonDocument::fromJson(json).object();
}

// As DPS answers GET /enrollments/{id} and GET /enrollmentGroups/{id} (api-version 2021-10-01).
const char *x509Enrollment
    = "{\n"
      "    \"registrationId\": \"nrf-352656100000001\", \"deviceId\": \"nrf-352656100000001\",\n"
      "    \"attestation\": {\"type\": \"x509\", \"x509\": {\"clientCertificates\": {\"primary\": {\"info\": {\n"
      "        \"subjectName\": \"CN=nrf-352656100000001\", \"sha1Thumbprint\": "
      "\"0A1B2C3D4E5F60718293A4B5C6D7E8F901234567\",\n"
      "        \"sha256Thumbprint\": \"aa00000000000000000000000000000000000000000000000000000000000001\"}}}}},\n"
      "    \"registrationState\": {\"registrationId\": \"nrf-352656100000001\", \"status\": \"assigned\",\n"
      "        \"assignedHub\": \"contoso.azure-devices.net\", \"deviceId\": \"nrf-352656100000001\"},\n"
      "    \"provisioningStatus\": \"disabled\", \"etag\": \"\\\"1\\\"\"}";

const char *keyGroup = "{\n"
                       "    \"enrollmentGroupId\": \"Sensors-B1\",\n"
                       "    \"attestation\": {\"type\": \"symmetricKey\", \"symmetricKey\": {\"primaryKey\": "
                       "\"cHJpbWFyeQ==\", \"secondaryKey\": \"c2Vjb25k\"}},\n"
                       "    \"provisioningStatus\": \"enabled\"}";

const char *caGroup
    = "{\n"
      "    \"enrollmentGroupId\": \"fleet\",\n"
      "    \"attestation\": {\"type\": \"x509\", \"x509\": {\"signingCertificates\": {\"primary\": {\"info\": {\n"
      "        \"sha1Thumbprint\": \"FFEEDDCCBBAA99887766554433221100FFEEDDCC\", \"sha256Thumbprint\": \"bb01\"}}}}}}";

} // namespace

class tst_DpsEnrollment : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsWhatTheFrontEndsShow()
    {
        const QJsonObject enrollment = parsed(x509Enrollment);
        QCOMPARE(DpsEnrollment::registrationId(enrollment), QStringLiteral("nrf-352656100000001"));
        QCOMPARE(DpsEnrollment::groupId(enrollment), QString());
        QCOMPARE(DpsEnrollment::provisioningStatus(enrollment), QStringLiteral("disabled"));
        QVERIFY(!DpsEnrollment::isEnabled(enrollment));
        QCOMPARE(DpsEnrollment::assignedHub(enrollment), QStringLiteral("contoso.azure-devices.net"));
        QCOMPARE(DpsEnrollment::primarySha1Thumbprint(enrollment),
            QStringLiteral("0A1B2C3D4E5F60718293A4B5C6D7E8F901234567"));
        QVERIFY(DpsEnrollment::isX509(enrollment));

        const QJsonObject group = parsed(keyGroup);
        QCOMPARE(DpsEnrollment::groupId(group), QStringLiteral("Sensors-B1"));
        QCOMPARE(DpsEnrollment::registrationId(group), QString());
        QCOMPARE(DpsEnrollment::assignedHub(group), QString()); // a group has no registration state
        QCOMPARE(DpsEnrollment::primarySha1Thumbprint(group), QString());
        QCOMPARE(DpsEnrollment::primarySymmetricKey(group), QStringLiteral("cHJpbWFyeQ=="));

        // A CA group's certificate is a signing certificate, not a client certificate.
        const QJsonObject ca = parsed(caGroup);
        QCOMPARE(DpsEnrollment::primarySha1Thumbprint(ca), QStringLiteral("FFEEDDCCBBAA99887766554433221100FFEEDDCC"));
        QCOMPARE(DpsEnrollment::provisioningStatus(ca), QString()); // not written: as DPS gave it
        QVERIFY(DpsEnrollment::isEnabled(ca));
    }

    void masksTheKeysOnly()
    {
        const QJsonObject group = parsed(keyGroup);
        const QJsonObject masked = DpsEnrollment::masked(group);
        const QString text = QString::fromUtf8(QJsonDocument(masked).toJson());
        QVERIFY(!text.contains(QStringLiteral("cHJpbWFyeQ==")));
        QVERIFY(!text.contains(QStringLiteral("c2Vjb25k")));
        QCOMPARE(DpsEnrollment::primarySymmetricKey(masked), QStringLiteral("********"));
        QVERIFY(DpsEnrollment::isSymmetricKey(masked));
        // Nothing else changes, the original neither.
        QJsonObject unmasked = masked;
        QJsonObject attestation = unmasked.value(QStringLiteral("attestation")).toObject();
        attestation.insert(QStringLiteral("symmetricKey"),
            group.value(QStringLiteral("attestation")).toObject().value(QStringLiteral("symmetricKey")));
        unmasked.insert(QStringLiteral("attestation"), attestation);
        QCOMPARE(unmasked, group);
        QCOMPARE(DpsEnrollment::primarySymmetricKey(group), QStringLiteral("cHJpbWFyeQ=="));

        // A list may come without keys, and an X.509 enrollment has none: left as they are, no key made up.
        QJsonObject withoutKeys = group;
        withoutKeys.insert(QStringLiteral("attestation"),
            QJsonObject{{QStringLiteral("type"), QStringLiteral("symmetricKey")},
                {QStringLiteral("symmetricKey"), QJsonObject{}}});
        QCOMPARE(DpsEnrollment::masked(withoutKeys), withoutKeys);
        QCOMPARE(DpsEnrollment::masked(parsed(x509Enrollment)), parsed(x509Enrollment));
    }

    void initialTwinAsAPersonWritesIt()
    {
        const QJsonObject dpsShape
            = parsed("{\"tags\": {\"site\": \"b1\"}, \"properties\": {\"desired\": {\"interval\": 30}}}");
        QCOMPARE(
            DpsEnrollment::initialTwinFrom(parsed("{\"tags\": {\"site\": \"b1\"}, \"desired\": {\"interval\": 30}}")),
            dpsShape);
        QCOMPARE(DpsEnrollment::initialTwinFrom(dpsShape), dpsShape);
        QCOMPARE(DpsEnrollment::initialTwinFrom(parsed("{\"tags\": {\"site\": \"b1\"}}")),
            parsed("{\"tags\": {\"site\": \"b1\"}}"));
        // Both given: taken as it is, for DPS to judge.
        const QJsonObject both = parsed("{\"desired\": {\"a\": 1}, \"properties\": {\"desired\": {\"b\": 2}}}");
        QCOMPARE(DpsEnrollment::initialTwinFrom(both), both);

        // The hub device's id, when it is not the registration id.
        const QJsonObject body = DpsEnrollment::individualSymmetricKey(QStringLiteral("reg-1"));
        const QJsonObject renamed = DpsEnrollment::withDeviceId(body, QStringLiteral("device-1"));
        QCOMPARE(renamed.value(QStringLiteral("deviceId")).toString(), QStringLiteral("device-1"));
        QCOMPARE(DpsEnrollment::registrationId(renamed), QStringLiteral("reg-1"));
    }

    void recordsTheCliPrints()
    {
        QCOMPARE(DpsEnrollment::deviceKeyJson(
                     QStringLiteral("Sensors-B1"), QStringLiteral("sensor-1"), QStringLiteral("ZGVyaXZlZA==")),
            (QJsonObject{{QStringLiteral("group"), QStringLiteral("Sensors-B1")},
                {QStringLiteral("registrationId"), QStringLiteral("sensor-1")},
                {QStringLiteral("deviceKey"), QStringLiteral("ZGVyaXZlZA==")}}));

        DpsAssignment assignment;
        assignment.status = QStringLiteral("assigned");
        assignment.substatus = QStringLiteral("initialAssignment");
        assignment.assignedHub = QStringLiteral("contoso.azure-devices.net");
        assignment.deviceId = QStringLiteral("sensor-1");
        assignment.registrationState = parsed("{\"etag\": \"x\"}"); // not printed
        QCOMPARE(assignment.toJson(QStringLiteral("sensor-1")),
            (QJsonObject{{QStringLiteral("registrationId"), QStringLiteral("sensor-1")},
                {QStringLiteral("status"), QStringLiteral("assigned")},
                {QStringLiteral("substatus"), QStringLiteral("initialAssignment")},
                {QStringLiteral("assignedHub"), QStringLiteral("contoso.azure-devices.net")},
                {QStringLiteral("deviceId"), QStringLiteral("sensor-1")}}));
    }
};

QTEST_GUILESS_MAIN(tst_DpsEnrollment)
#include "tst_dpsenrollment.moc"
