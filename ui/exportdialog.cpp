#include "exportdialog.h"

#include "common/settings.h"
#include "credentials/pkcs12.h"
#include "credentials/secretexport.h"
#include "credentials/securefile.h"
#include "fielderror.h"
#include "secureclipboard.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

QLabel *wrapped(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    return label;
}

// The QR code as an image: dark modules black on white, with the quiet zone, moduleSize pixels each.
QImage qrImage(const QrCode &code, int moduleSize)
{
    const int side = (code.size() + 2 * QrCode::quietZone) * moduleSize;
    QImage image(side, side, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    for (int y = 0; y < code.size(); ++y)
        for (int x = 0; x < code.size(); ++x)
            if (code.isDark(x, y))
                painter.fillRect((x + QrCode::quietZone) * moduleSize, (y + QrCode::quietZone) * moduleSize, moduleSize,
                    moduleSize, Qt::black);
    return image;
}

} // namespace

ExportDialog::ExportDialog(const QString &what, SecretBytes secret, Settings &settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
    , m_what(what)
    , m_secret(std::move(secret))
{
    build(false);
}

ExportDialog::ExportDialog(const QString &what, const DeviceCredential &credential, Settings &settings, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
    , m_what(what)
    , m_credential(credential)
{
    build(true);
}

ExportDialog::~ExportDialog() = default; // m_secret wipes itself

void ExportDialog::build(bool hasCredential)
{
    setWindowTitle(tr("Export Secret"));
    setMinimumWidth(600);
    m_methods = new QButtonGroup(this);
    m_pages = new QStackedWidget(this);
    m_recipient = new QLineEdit(this);
    m_output = new QLineEdit(this);
    m_password = new QLineEdit(this);
    m_repeat = new QLineEdit(this);
    m_confirmPlaintext
        = new QCheckBox(tr("Write it unencrypted. Anyone who can read the file can act as this device."), this);
    m_qrWarning = wrapped(tr("Anyone who sees the screen, or a photo of it, can act as this device. Show the code only "
                             "where no one else is looking, and close this window afterwards."),
        this);
    m_showQr = new QPushButton(tr("Show QR Code"), this);
    m_qrImage = new QLabel(this);
    m_problem = FieldError::create(this);
    m_outcome = wrapped({}, this);
    m_progress = new QProgressBar(this);
    m_export = new QPushButton(tr("Export"), this);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_clipboard = new SecureClipboard(QGuiApplication::clipboard(), this);

    auto *intro = wrapped(tr("Export %1. Choose how it leaves this computer:").arg(m_what), this);

    // How long it stays valid: shown once a caller offers an expiring form (offerExpiry).
    m_validityRow = new QWidget(this);
    m_validity = new QComboBox(this);
    m_validity->setAccessibleName(tr("Valid for"));
    m_validity->addItem(tr("1 hour"), qint64(3600));
    m_validity->addItem(tr("1 day"), qint64(86400));
    m_validity->addItem(tr("7 days"), qint64(7 * 86400));
    m_validity->addItem(tr("30 days"), qint64(30 * 86400));
    m_validity->addItem(tr("No expiry (contains the key)"), qint64(0));
    m_validity->setCurrentIndex(1);
    m_validityNote = wrapped({}, this);
    auto *validityLayout = new QFormLayout(m_validityRow);
    validityLayout->setContentsMargins(0, 0, 0, 0);
    validityLayout->addRow(tr("Valid for:"), m_validity);
    validityLayout->addRow(m_validityNote);
    m_validityRow->hide();

    const QList<std::pair<Method, QString>> methods{
        {Method::Clipboard, tr("Clipboard, cleared after %1 seconds").arg(m_settings.clipboardClearSeconds())},
        {Method::OpenPgp, tr("OpenPGP-encrypted file, for one recipient")},
        {Method::Pkcs12, tr("PKCS#12 file protected by a password (certificate and key)")},
        {Method::QrCode, tr("QR code on the screen")}, {Method::Plaintext, tr("Plaintext file (not encrypted)")}};
    auto *methodColumn = new QVBoxLayout;
    for (const auto &[method, label] : methods) {
        auto *button = new QRadioButton(label, this);
        m_methods->addButton(button, int(method));
        methodColumn->addWidget(button);
        // A PKCS#12 holds a certificate and its key; a connection string has neither.
        button->setEnabled(method != Method::Pkcs12 || hasCredential);
        // A certificate and key are far too large for a QR code, and nobody types them from a clipboard.
        if (hasCredential && (method == Method::Clipboard || method == Method::QrCode))
            button->setEnabled(false);
    }

    // One page of options per method.
    auto *clipboardPage
        = wrapped(tr("The clipboard is marked so that clipboard managers do not keep it, and is cleared "
                     "after %1 seconds if it still holds the secret.")
                      .arg(m_settings.clipboardClearSeconds()),
            this);
    auto *openPgpPage = new QWidget(this);
    m_recipient->setPlaceholderText(tr("fingerprint or e-mail in your GnuPG keyring, or a public key file (.asc)"));
    m_recipient->setAccessibleName(tr("Recipient"));
    auto *browseKey = new QToolButton(this);
    browseKey->setText(tr("Key File…"));
    auto *recipientRow = new QHBoxLayout;
    recipientRow->addWidget(m_recipient, 1);
    recipientRow->addWidget(browseKey);
    auto *openPgpForm = new QFormLayout(openPgpPage);
    openPgpForm->setContentsMargins(0, 0, 0, 0);
    openPgpForm->addRow(tr("Recipient:"), recipientRow);
    openPgpForm->addRow(
        wrapped(tr("Only the holder of that key's secret key can read the file (gpg --decrypt)."), this));

    auto *pkcs12Page = new QWidget(this);
    for (QLineEdit *edit : {m_password, m_repeat})
        edit->setEchoMode(QLineEdit::Password);
    m_password->setAccessibleName(tr("Password"));
    m_repeat->setAccessibleName(tr("Repeat password"));
    auto *pkcs12Form = new QFormLayout(pkcs12Page);
    pkcs12Form->setContentsMargins(0, 0, 0, 0);
    pkcs12Form->addRow(tr("Password:"), m_password);
    pkcs12Form->addRow(tr("Repeat:"), m_repeat);
    pkcs12Form->addRow(
        wrapped(tr("AES-256 with PBKDF2. Give the password through another channel than the file."), this));

    auto *qrPage = new QWidget(this);
    m_qrImage->setAlignment(Qt::AlignCenter);
    m_qrImage->hide();
    auto *qrColumn = new QVBoxLayout(qrPage);
    qrColumn->setContentsMargins(0, 0, 0, 0);
    qrColumn->addWidget(m_qrWarning);
    auto *qrButtonRow = new QHBoxLayout;
    qrButtonRow->addWidget(m_showQr);
    qrButtonRow->addStretch(1);
    qrColumn->addLayout(qrButtonRow);
    qrColumn->addWidget(m_qrImage, 1);

    auto *plaintextPage = new QWidget(this);
    auto *plaintextColumn = new QVBoxLayout(plaintextPage);
    plaintextColumn->setContentsMargins(0, 0, 0, 0);
    plaintextColumn->addWidget(
        wrapped(tr("Prefer an encrypted file. If it must be plain text, the file is new and readable "
                   "by you only (mode 0600); delete it as soon as it has been used."),
            this));
    plaintextColumn->addWidget(m_confirmPlaintext);

    m_pages->insertWidget(int(Method::Clipboard), clipboardPage);
    m_pages->insertWidget(int(Method::OpenPgp), openPgpPage);
    m_pages->insertWidget(int(Method::Pkcs12), pkcs12Page);
    m_pages->insertWidget(int(Method::QrCode), qrPage);
    m_pages->insertWidget(int(Method::Plaintext), plaintextPage);

    m_outputRow = new QWidget(this);
    m_output->setAccessibleName(tr("File"));
    auto *browseOut = new QToolButton(this);
    browseOut->setText(tr("Choose…"));
    auto *outputLayout = new QHBoxLayout(m_outputRow);
    outputLayout->setContentsMargins(0, 0, 0, 0);
    outputLayout->addWidget(new QLabel(tr("Save as:"), this));
    outputLayout->addWidget(m_output, 1);
    outputLayout->addWidget(browseOut);

    m_progress->setRange(0, 0);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_export->setDefault(true);
    m_buttons->addButton(m_export, QDialogButtonBox::ActionRole);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_validityRow);
    layout->addLayout(methodColumn);
    layout->addSpacing(6);
    layout->addWidget(m_pages);
    layout->addWidget(m_outputRow);
    layout->addWidget(m_problem);
    layout->addWidget(m_outcome);
    layout->addWidget(m_progress);
    layout->addWidget(m_buttons);

    connect(m_methods, &QButtonGroup::idClicked, this, [this](int id) { setMethod(Method(id)); });
    for (QLineEdit *edit : {m_recipient, m_output, m_password, m_repeat})
        connect(edit, &QLineEdit::textChanged, this, &ExportDialog::updateState);
    connect(m_confirmPlaintext, &QCheckBox::toggled, this, &ExportDialog::updateState);
    connect(m_validity, &QComboBox::currentIndexChanged, this, [this] {
        m_qrImage->clear(); // a code shown was made for the validity chosen before
        m_qrImage->hide();
        m_outcome->clear();
        updateState();
    });
    connect(browseKey, &QToolButton::clicked, this, &ExportDialog::browseRecipient);
    connect(browseOut, &QToolButton::clicked, this, &ExportDialog::browseOutput);
    connect(m_showQr, &QPushButton::clicked, this, &ExportDialog::showQrCode);
    connect(m_export, &QPushButton::clicked, this, &ExportDialog::runExport);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &ExportDialog::reject);
    connect(m_clipboard, &SecureClipboard::cleared, this, [this] { finish(true, tr("The clipboard was cleared.")); });

    setMethod(hasCredential ? Method::OpenPgp : Method::Clipboard);
}

void ExportDialog::offerExpiry(ValidityMaker make)
{
    m_makeForValidity = std::move(make);
    m_validityRow->setVisible(bool(m_makeForValidity));
    updateState();
}

void ExportDialog::setValiditySeconds(qint64 seconds)
{
    if (const int index = m_validity->findData(seconds); index >= 0)
        m_validity->setCurrentIndex(index);
}

qint64 ExportDialog::validitySeconds() const
{
    return m_makeForValidity ? m_validity->currentData().toLongLong() : 0;
}

void ExportDialog::setMethod(Method method)
{
    if (QAbstractButton *button = m_methods->button(int(method)); button && button->isEnabled())
        button->setChecked(true);
    m_pages->setCurrentIndex(m_methods->checkedId());
    m_qrImage->clear();
    m_qrImage->hide();
    m_outcome->clear();
    updateState();
}

ExportDialog::Method ExportDialog::method() const
{
    return Method(m_methods->checkedId());
}

void ExportDialog::setRecipient(const QString &recipient)
{
    m_recipient->setText(recipient);
}

void ExportDialog::setOutputPath(const QString &path)
{
    m_output->setText(path);
}

void ExportDialog::setPkcs12Password(const QString &password, const QString &repeated)
{
    m_password->setText(password);
    m_repeat->setText(repeated);
}

void ExportDialog::setPlaintextConfirmed(bool confirmed)
{
    m_confirmPlaintext->setChecked(confirmed);
}

QString ExportDialog::outcome() const
{
    return m_outcome->text();
}

bool ExportDialog::isQrCodeShown() const
{
    return m_qrImage->isVisible() && !m_qrImage->pixmap().isNull();
}

QImage ExportDialog::qrCodeImage() const
{
    return isQrCodeShown() ? m_qrImage->pixmap().toImage() : QImage();
}

QString ExportDialog::problem() const
{
    const Method chosen = method();
    const bool toFile = chosen == Method::OpenPgp || chosen == Method::Pkcs12 || chosen == Method::Plaintext;
    if (chosen == Method::OpenPgp && m_recipient->text().trimmed().isEmpty())
        return tr("Name the recipient.");
    if (chosen == Method::Pkcs12) {
        if (m_password->text().size() < Pkcs12::minimumPasswordLength)
            return tr("The password needs at least %1 characters.").arg(Pkcs12::minimumPasswordLength);
        if (m_password->text() != m_repeat->text())
            return tr("The two passwords differ.");
    }
    if (chosen == Method::Plaintext && !m_confirmPlaintext->isChecked())
        return tr("Tick the box to write the secret unencrypted.");
    if (toFile && m_output->text().trimmed().isEmpty())
        return tr("Choose the file to write.");
    return {};
}

void ExportDialog::updateState()
{
    const Method chosen = method();
    m_outputRow->setVisible(chosen == Method::OpenPgp || chosen == Method::Pkcs12 || chosen == Method::Plaintext);
    m_export->setVisible(chosen != Method::QrCode);
    m_export->setText(chosen == Method::Clipboard ? tr("Copy") : tr("Export"));
    const QString why = problem();
    // Say why only once the user has started filling this in; an untouched form just waits.
    const bool touched = !m_recipient->text().isEmpty() || !m_output->text().isEmpty() || !m_password->text().isEmpty();
    FieldError::show(m_problem, touched ? why : QString());
    m_export->setEnabled(why.isEmpty() && !m_busy);
    if (m_makeForValidity)
        m_validityNote->setText(validitySeconds() > 0
                ? tr("Without the key: a token of the device that stops working %1 after the export. Whoever gets "
                     "it cannot make another.")
                      .arg(m_validity->currentText())
                : tr("With the device's key: it works until the key is regenerated. Prefer an expiry when handing "
                     "it to someone."));
}

void ExportDialog::browseOutput()
{
    const Method chosen = method();
    const QString filter = chosen == Method::OpenPgp ? tr("OpenPGP messages (*.asc)")
        : chosen == Method::Pkcs12                   ? tr("PKCS#12 files (*.p12 *.pfx)")
                                                     : tr("Text files (*.txt *.pem)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Secret As"), QDir::homePath(), filter, nullptr,
        QFileDialog::DontConfirmOverwrite); // never overwritten anyway
    if (!path.isEmpty())
        m_output->setText(path);
}

void ExportDialog::browseRecipient()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Recipient's Public Key"), QDir::homePath(),
        tr("OpenPGP public keys (*.asc *.gpg *.pub);;All files (*)"));
    if (!path.isEmpty())
        m_recipient->setText(path);
}

Result<SecretBytes> ExportDialog::secretBytes()
{
    m_expiresAt = {};
    if (m_credential)
        return SecretExport::credentialPem(*m_credential);
    const qint64 seconds = validitySeconds();
    if (seconds <= 0)
        return m_secret.copy();
    m_expiresAt = QDateTime::currentDateTimeUtc().addSecs(seconds);
    return m_makeForValidity(seconds);
}

QString ExportDialog::expiryNote() const
{
    return m_expiresAt.isValid()
        ? tr(" It stops working at %1.").arg(QLocale().toString(m_expiresAt.toLocalTime(), QLocale::ShortFormat))
        : QString();
}

void ExportDialog::showQrCode()
{
    Result<SecretBytes> secret = secretBytes();
    if (!secret) {
        finish(false, secret.error().message);
        return;
    }
    const Result<QrCode> code = SecretExport::toQrCode(*secret);
    if (!code) {
        finish(false, code.error().message);
        return;
    }
    m_qrImage->setPixmap(QPixmap::fromImage(qrImage(*code, 5)));
    m_qrImage->show();
    finish(true, expiryNote().trimmed());
}

void ExportDialog::finish(bool ok, const QString &message)
{
    m_busy = false;
    m_failed = !ok;
    m_progress->hide();
    m_outcome->setText(message);
    QPalette palette = m_outcome->palette();
    palette.setColor(QPalette::WindowText, ok ? QColor(0x1e, 0x7b, 0x34) : QColor(0xb3, 0x26, 0x1e));
    m_outcome->setPalette(palette);
    updateState();
}

void ExportDialog::runExport()
{
    if (m_busy || !problem().isEmpty())
        return;
    const QString path = m_output->text().trimmed();
    if (method() == Method::QrCode) {
        showQrCode();
        return;
    }
    Result<SecretBytes> secret = secretBytes();
    if (!secret) {
        finish(false, secret.error().message);
        return;
    }
    switch (method()) {
    case Method::Clipboard:
        m_clipboard->setClearAfterSeconds(m_settings.clipboardClearSeconds());
        m_clipboard->copySecret(secret->exposeAsString()); // the clipboard takes text
        finish(true,
            tr("Copied. The clipboard is cleared in %1 seconds if it still holds it.")
                    .arg(m_clipboard->clearAfterSeconds())
                + expiryNote());
        return;
    case Method::QrCode: return;
    case Method::Plaintext: {
        const Result<void> written = SecretExport::toPlaintextFile(*secret, path, m_confirmPlaintext->isChecked());
        finish(written.has_value(),
            written ? tr("Wrote %1 (readable by you only). Delete it once it has been used.").arg(path) + expiryNote()
                    : written.error().message);
        return;
    }
    case Method::OpenPgp:
    case Method::Pkcs12: break;
    }
    // The file must be new: said now, before gpg or OpenSSL do any work.
    if (const Result<void> fresh = SecureFile::checkNew(path); !fresh) {
        finish(false, fresh.error().message);
        return;
    }
    m_busy = true;
    m_progress->show();
    updateState();
    if (method() == Method::OpenPgp) {
        SecretExport::toOpenPgpFile(std::move(*secret), m_recipient->text().trimmed(), path, m_gnupgHome)
            .then(this, [this, path, note = expiryNote()](Result<OpenPgpEncryptor::Encrypted> encrypted) {
                finish(encrypted.has_value(),
                    encrypted
                        ? tr("Wrote %1, encrypted to %2 (%3).").arg(path, encrypted->userId, encrypted->fingerprint)
                            + note
                        : encrypted.error().message);
            });
        return;
    }
    // The field's own text is Qt's; the password goes on in a SecretBytes.
    SecretExport::toPkcs12File(*m_credential, SecretBytes::fromString(m_password->text()), path)
        .then(this, [this, path](Result<void> written) {
            finish(written.has_value(),
                written ? tr("Wrote %1. Send the password another way than the file.").arg(path)
                        : written.error().message);
        });
}

} // namespace Onboarder
