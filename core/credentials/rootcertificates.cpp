#include "rootcertificates.h"

#include <QCoreApplication>
#include <QFile>

namespace Onboarder {

namespace {

class Text
{
    Q_DECLARE_TR_FUNCTIONS(RootCertificates)
};

} // namespace

QStringList RootCertificates::fileNames()
{
    return {QStringLiteral("digicert-global-root-g2.pem"), QStringLiteral("baltimore-cybertrust-root.pem"),
        QStringLiteral("microsoft-rsa-root-ca-2017.pem")};
}

Result<RootCertificates::Entry> RootCertificates::find(const QString &fileName)
{
    if (!fileNames().contains(fileName))
        return fail(ErrorKind::NotFound, QStringLiteral("RootCertificateUnknown"),
            Text::tr("There is no bundled root certificate named \"%1\"; there are: %2.")
                .arg(fileName, fileNames().join(QStringLiteral(", "))));
    Entry entry{fileName, QStringLiteral(":/certs/") + fileName, {}};
    QFile file(entry.resourcePath);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::Internal, QStringLiteral("RootCertificateMissing"),
            Text::tr("The bundled root certificate %1 is missing from this build.").arg(fileName));
    auto cert = Certificate::fromPem(file.readAll());
    if (!cert)
        return std::unexpected(cert.error());
    entry.certificate = *cert;
    return entry;
}

QList<RootCertificates::Entry> RootCertificates::all()
{
    QList<Entry> entries;
    for (const QString &name : fileNames()) {
        if (auto entry = find(name))
            entries.append(*entry);
    }
    return entries;
}

QByteArray RootCertificates::bundlePem()
{
    QByteArray pem;
    for (const Entry &entry : all())
        pem += entry.certificate.toPem();
    return pem;
}

} // namespace Onboarder
