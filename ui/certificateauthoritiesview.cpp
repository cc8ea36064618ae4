#include "certificateauthoritiesview.h"

#include "common/continuation.h"
#include "credentials/certificateauthority.h"
#include "credentials/credentialstore.h"

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

enum Column { NameColumn, SubjectColumn, ThumbprintColumn, ExpiresColumn, ColumnCount };

} // namespace

CertificateAuthoritiesView::CertificateAuthoritiesView(CredentialStore &credentials, QWidget *parent)
    : QWidget(parent)
    , m_credentials(credentials)
    , m_table(new QTableWidget(0, ColumnCount, this))
    , m_verification(new QPushButton(tr("Verification Certificate…"), this))
    , m_group(new QPushButton(tr("New Group with This CA…"), this))
    , m_status(new QLabel(this))
{
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Subject"), tr("SHA-256 thumbprint"), tr("Expires")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(ThumbprintColumn, QHeaderView::Stretch);
    m_table->setColumnWidth(NameColumn, 140);
    m_table->setColumnWidth(SubjectColumn, 220);
    m_table->setAccessibleName(tr("Certificate authorities"));
    m_verification->setToolTip(
        tr("Prove to IoT Hub or DPS that this computer holds the CA's key: a certificate for the "
           "verification code the portal shows, signed by the CA."));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_group);
    buttons->addWidget(m_verification);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);
    layout->addWidget(m_status);

    connect(m_table, &QTableWidget::customContextMenuRequested, this, &CertificateAuthoritiesView::showContextMenu);
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &CertificateAuthoritiesView::updateButtons);
    connect(m_verification, &QPushButton::clicked, this, &CertificateAuthoritiesView::createVerificationCertificate);
    connect(m_group, &QPushButton::clicked, this, [this] {
        if (!selectedCa().isEmpty())
            Q_EMIT groupRequested(selectedCa());
    });
    connect(&m_credentials, &CredentialStore::credentialsChanged, this, &CertificateAuthoritiesView::reload);
    reload();
}

QString CertificateAuthoritiesView::selectedCa() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_table->item(rows.first().row(), NameColumn)->text();
}

QStringList CertificateAuthoritiesView::names() const
{
    QStringList all;
    for (int row = 0; row < m_table->rowCount(); ++row)
        all.append(m_table->item(row, NameColumn)->text());
    return all;
}

void CertificateAuthoritiesView::reload()
{
    const QString selected = selectedCa();
    m_table->setRowCount(0);
    const auto records = m_credentials.records();
    if (!records) {
        m_status->setText(records.error().message);
        return;
    }
    for (const CredentialRecord &record : *records) {
        if (record.kind != CredentialRecord::Kind::CertificateAuthority)
            continue;
        QFile file(m_credentials.caCertificatePath(record.deviceId));
        Result<Certificate> certificate = std::unexpected(Error{});
        if (file.open(QIODevice::ReadOnly))
            certificate = Certificate::fromPem(file.readAll());
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        m_table->setItem(row, NameColumn, new QTableWidgetItem(record.deviceId));
        m_table->setItem(row, SubjectColumn,
            new QTableWidgetItem(certificate ? certificate->subject() : tr("(certificate unreadable)")));
        m_table->setItem(row, ThumbprintColumn, new QTableWidgetItem(record.thumbprintSha256));
        m_table->setItem(row, ExpiresColumn,
            new QTableWidgetItem(QLocale().toString(record.notAfter.toLocalTime(), QLocale::ShortFormat)));
        if (record.deviceId == selected)
            m_table->selectRow(row);
    }
    if (m_table->rowCount() == 0)
        m_status->setText(
            tr("No CA is kept here. Import one with onboarder-cli cred import-ca NAME --cert FILE --key FILE."));
    else if (!m_busy)
        m_status->clear();
    updateButtons();
}

void CertificateAuthoritiesView::updateButtons()
{
    const bool chosen = !selectedCa().isEmpty() && !m_busy;
    m_verification->setEnabled(chosen);
    m_group->setEnabled(chosen);
}

void CertificateAuthoritiesView::showContextMenu(const QPoint &position)
{
    const QModelIndex index = m_table->indexAt(position);
    if (!index.isValid())
        return;
    m_table->selectRow(index.row());
    QMenu menu(this);
    menu.addAction(
            tr("Create Verification Certificate…"), this, &CertificateAuthoritiesView::createVerificationCertificate)
        ->setEnabled(!m_busy);
    const QString ca = selectedCa();
    menu.addAction(tr("New Enrollment Group with This CA…"), this, [this, ca] { Q_EMIT groupRequested(ca); });
    menu.exec(m_table->viewport()->mapToGlobal(position));
}

void CertificateAuthoritiesView::createVerificationCertificate()
{
    const QString ca = selectedCa();
    if (ca.isEmpty() || m_busy)
        return;
    QString code;
    for (;;) {
        bool ok = false;
        code = QInputDialog::getText(this, tr("Verification Certificate"),
            tr("The verification code the portal shows for CA \"%1\" (IoT Hub or DPS → Certificates → "
               "Generate verification code):")
                .arg(ca),
            QLineEdit::Normal, code, &ok)
                   .trimmed();
        if (!ok)
            return;
        const auto valid = CertificateAuthority::checkVerificationCode(code);
        if (valid)
            break;
        QMessageBox::warning(this, tr("Verification Certificate"), valid.error().message);
    }
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Verification Certificate"),
        folder + u'/' + QStringLiteral("verification-%1.pem").arg(ca), tr("PEM certificate (*.pem *.cer)"), nullptr,
        QFileDialog::DontConfirmOverwrite);
    if (path.isEmpty())
        return;
    writeVerificationCertificate(ca, code, path);
}

void CertificateAuthoritiesView::writeVerificationCertificate(
    const QString &caName, const QString &code, const QString &path)
{
    if (auto valid = CertificateAuthority::checkVerificationCode(code); !valid) {
        m_status->setText(valid.error().message);
        return;
    }
    if (QFileInfo::exists(path)) {
        m_status->setText(tr("%1 exists already; nothing was written. Choose another file.").arg(path));
        return;
    }
    m_busy = true;
    updateButtons();
    m_status->setText(tr("Reading CA \"%1\" from the keychain…").arg(caName));
    whenFinished(m_credentials.certificateAuthority(caName), this,
        [this, caName, code, path](const Result<CertificateAuthority> &ca) {
            m_busy = false;
            updateButtons();
            const auto certificate
                = ca ? ca->verificationCertificate(code) : Result<Certificate>(std::unexpected(ca.error()));
            if (!certificate) {
                m_status->setText(certificate.error().message);
                return;
            }
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || file.write(certificate->toPem()) < 0 || !file.commit()) {
                m_status->setText(tr("%1 could not be written: %2").arg(path, file.errorString()));
                return;
            }
            const QString done = tr(
                "Wrote the verification certificate for code %1, signed by CA \"%2\", to %3. Upload it in the portal "
                "where the code was shown.")
                                     .arg(code, caName, path);
            m_status->setText(done);
            Q_EMIT statusMessage(done);
            Q_EMIT verificationWritten(path, certificate->thumbprintSha1());
        });
}

} // namespace Onboarder
