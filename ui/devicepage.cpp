#include "devicepage.h"

#include "common/settings.h"
#include "credentials/certificate.h"
#include "credentials/credentialstore.h"
#include "devicemessagestab.h"
#include "devicemodulestab.h"
#include "devicetelemetrytab.h"
#include "exportdialog.h"
#include "fielderror.h"
#include "hub/connectionstring.h"
#include "hub/devicecheck.h"
#include "hub/hubsession.h"
#include "secureclipboard.h"

#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QTabWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Onboarder {

namespace {

QString prettyJson(const QJsonValue &value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented)).trimmed();
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented)).trimmed();
    // A scalar: wrapped in an array to let QJsonDocument write it, then unwrapped.
    const QString text = QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
    return text.mid(1, text.size() - 2);
}

QPlainTextEdit *jsonEditor(QWidget *parent, bool readOnly)
{
    auto *edit = new QPlainTextEdit(parent);
    edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    edit->setReadOnly(readOnly);
    edit->setLineWrapMode(QPlainTextEdit::NoWrap);
    edit->setTabChangesFocus(true);
    return edit;
}

// The JSON in an editor, or the reason it is not JSON ("line 3, column 7: …").
Result<QJsonValue> parseJson(const QString &text, bool objectOnly)
{
    const QByteArray utf8 = text.trimmed().isEmpty() && !objectOnly ? QByteArrayLiteral("null") : text.toUtf8();
    // QJsonDocument reads only objects and arrays; a scalar payload is read inside an array.
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson("[" + utf8 + "]", &error);
    if (error.error != QJsonParseError::NoError) {
        const int offset = qMax(0, error.offset - 1);
        const QByteArray before = utf8.left(offset);
        const int line = int(before.count('\n')) + 1;
        const int column = offset - int(before.lastIndexOf('\n'));
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidJson"),
            DevicePage::tr("Not valid JSON at line %1, column %2: %3.").arg(line).arg(column).arg(error.errorString()));
    }
    const QJsonArray array = document.array();
    if (array.size() != 1)
        return fail(ErrorKind::InvalidInput, QStringLiteral("InvalidJson"), DevicePage::tr("Enter one JSON value."));
    if (objectOnly && !array.first().isObject())
        return fail(
            ErrorKind::InvalidInput, QStringLiteral("InvalidJson"), DevicePage::tr("Enter a JSON object: { … }."));
    return array.first();
}

QString timeText(const QDateTime &time)
{
    if (!time.isValid())
        return DevicePage::tr("never");
    return DevicePage::tr("%1 (%2)").arg(
        QLocale().toString(time.toLocalTime(), QLocale::ShortFormat), ago(time, QDateTime::currentDateTimeUtc()));
}

} // namespace

DevicePage::DevicePage(HubSession &session, CredentialStore &credentials, Settings &settings, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_credentials(credentials)
    , m_settings(settings)
    , m_title(new QLabel(this))
    , m_failure(FieldError::create(this))
    , m_tabs(new QTabWidget(this))
    , m_telemetryTab(new DeviceTelemetryTab(session, this))
    , m_messagesTab(new DeviceMessagesTab(session, this))
    , m_modulesTab(new DeviceModulesTab(session, settings, this))
{
    auto *back = new QPushButton(style()->standardIcon(QStyle::SP_ArrowBack), tr("All Devices"), this);
    back->setShortcut(QKeySequence::Back);
    auto *refresh = new QPushButton(style()->standardIcon(QStyle::SP_BrowserReload), tr("Reload"), this);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.25);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *top = new QHBoxLayout;
    top->addWidget(back);
    top->addSpacing(12);
    top->addWidget(m_title, 1);
    top->addWidget(refresh);

    m_tabs->addTab(createOverviewTab(), tr("Overview"));
    m_tabs->addTab(m_telemetryTab, tr("Telemetry"));
    m_tabs->addTab(createTwinTab(), tr("Twin"));
    m_tabs->addTab(createMethodTab(), tr("Direct Method"));
    m_tabs->addTab(m_messagesTab, tr("Messages to Device"));
    m_tabs->addTab(m_modulesTab, tr("Modules"));
    m_tabs->addTab(createConnectionTab(), tr("Credentials"));
    m_tabs->setTabToolTip(m_tabs->indexOf(m_telemetryTab), tr("What the device sends, live, while this tab is shown"));
    m_tabs->setTabToolTip(
        m_tabs->indexOf(m_messagesTab), tr("Cloud-to-device messages: send, see their feedback, purge the queue"));
    m_tabs->setTabToolTip(m_tabs->indexOf(m_modulesTab), tr("The device's module identities, their twins and keys"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_failure);
    layout->addWidget(m_tabs, 1);

    connect(back, &QPushButton::clicked, this, &DevicePage::backRequested);
    connect(refresh, &QPushButton::clicked, this, &DevicePage::reload);
    connect(m_telemetryTab, &DeviceTelemetryTab::refreshRequested, this, [this] { reloadDevice(false); });
    connect(m_messagesTab, &DeviceMessagesTab::refreshRequested, this, [this] { reloadDevice(false); });
    connect(m_messagesTab, &DeviceMessagesTab::statusMessage, this, &DevicePage::statusMessage);
    connect(m_modulesTab, &DeviceModulesTab::statusMessage, this, &DevicePage::statusMessage);
    connect(&m_session, &HubSession::clientChanged, this, [this] {
        if (!m_id.isEmpty())
            Q_EMIT backRequested(); // the device belonged to another hub
    });
}

QWidget *DevicePage::createOverviewTab()
{
    auto *tab = new QWidget(this);
    m_status = new QLabel(tab);
    m_connection = new QLabel(tab);
    m_lastActivity = new QLabel(tab);
    m_auth = new QLabel(tab);
    m_queued = new QLabel(tab);
    m_etag = new QLabel(tab);
    for (QLabel *label : {m_status, m_connection, m_lastActivity, m_auth, m_queued, m_etag}) {
        label->setTextFormat(Qt::PlainText);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        label->setWordWrap(true);
    }
    m_toggleEnabled = new QPushButton(tab);
    auto *statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_toggleEnabled);

    auto *form = new QFormLayout;
    form->addRow(tr("Status:"), statusRow);
    form->addRow(tr("Connection:"), m_connection);
    form->addRow(tr("Last activity:"), m_lastActivity);
    form->addRow(tr("Authentication:"), m_auth);
    form->addRow(tr("Queued messages:"), m_queued);
    form->addRow(tr("ETag:"), m_etag);

    m_check = new QPushButton(tr("Check Device"), tab);
    m_check->setToolTip(tr("Answers: is it registered, enabled, connected, when was it last active, when did it last "
                           "report, does it answer?"));
    m_ping = new QCheckBox(tr("Also call its \"ping\" method"), tab);
    m_checkResults = new QTreeWidget(tab);
    m_checkResults->setColumnCount(2);
    m_checkResults->setHeaderLabels({tr("Question"), tr("Answer")});
    m_checkResults->setRootIsDecorated(false);
    m_checkResults->setWordWrap(true);
    m_checkResults->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_checkResults->header()->setStretchLastSection(true);
    m_checkResults->setAccessibleName(tr("Check results"));
    auto *checkRow = new QHBoxLayout;
    checkRow->addWidget(m_check);
    checkRow->addWidget(m_ping);
    checkRow->addStretch(1);

    auto *layout = new QVBoxLayout(tab);
    layout->addLayout(form);
    layout->addSpacing(10);
    layout->addLayout(checkRow);
    layout->addWidget(m_checkResults, 1);

    connect(m_toggleEnabled, &QPushButton::clicked, this, &DevicePage::toggleEnabled);
    connect(m_check, &QPushButton::clicked, this, &DevicePage::runCheck);
    return tab;
}

QWidget *DevicePage::createTwinTab()
{
    auto *tab = new QWidget(this);
    m_twinView = jsonEditor(tab, true);
    m_twinView->setAccessibleName(tr("Twin"));
    m_twinEdit = jsonEditor(tab, false);
    m_twinEdit->setAccessibleName(tr("Tags and desired properties"));
    m_twinError = FieldError::create(tab);
    m_applyTwin = new QPushButton(tr("Save Changes"), tab);
    m_revertTwin = new QPushButton(tr("Revert"), tab);

    auto *viewColumn = new QVBoxLayout;
    viewColumn->addWidget(new QLabel(tr("The twin as the hub has it:"), tab));
    viewColumn->addWidget(m_twinView, 1);
    auto *editColumn = new QVBoxLayout;
    auto *editLabel = new QLabel(tr("Tags and desired properties (the device sees the desired ones). Saving replaces "
                                    "both; a key left out is removed."),
        tab);
    editLabel->setWordWrap(true);
    editColumn->addWidget(editLabel);
    editColumn->addWidget(m_twinEdit, 1);
    editColumn->addWidget(m_twinError);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_revertTwin);
    buttons->addWidget(m_applyTwin);
    editColumn->addLayout(buttons);

    auto *layout = new QHBoxLayout(tab);
    layout->addLayout(viewColumn, 1);
    layout->addLayout(editColumn, 1);

    connect(m_twinEdit, &QPlainTextEdit::textChanged, this, &DevicePage::checkTwinSyntax);
    connect(m_applyTwin, &QPushButton::clicked, this, &DevicePage::applyTwin);
    connect(m_revertTwin, &QPushButton::clicked, this, &DevicePage::showTwin);
    return tab;
}

QWidget *DevicePage::createMethodTab()
{
    auto *tab = new QWidget(this);
    m_methodName = new QLineEdit(tab);
    m_methodName->setPlaceholderText(tr("e.g. reboot"));
    m_methodName->setAccessibleName(tr("Method name"));
    m_methodPayload = jsonEditor(tab, false);
    m_methodPayload->setPlaceholderText(tr("JSON payload, e.g. {\"delay\": 5}; empty sends null"));
    m_methodPayload->setAccessibleName(tr("Payload"));
    m_methodPayload->setMaximumHeight(140);
    m_payloadError = FieldError::create(tab);
    m_responseTimeout = new QSpinBox(tab);
    m_responseTimeout->setRange(5, 300);
    m_responseTimeout->setValue(30);
    m_responseTimeout->setSuffix(tr(" s"));
    m_responseTimeout->setToolTip(tr("How long the hub waits for the device's answer"));
    m_connectTimeout = new QSpinBox(tab);
    m_connectTimeout->setRange(0, 300);
    m_connectTimeout->setSpecialValueText(tr("only if connected now"));
    m_connectTimeout->setSuffix(tr(" s"));
    m_connectTimeout->setToolTip(tr("How long the hub waits for a disconnected device to connect"));
    m_invoke = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Invoke"), tab);
    m_stopWaiting = new QPushButton(tr("Stop Waiting"), tab);
    m_stopWaiting->setToolTip(
        tr("A method that was sent cannot be taken back; this only stops waiting for its answer."));
    m_stopWaiting->hide();
    m_methodStatus = new QLabel(tab);
    m_methodStatus->setTextFormat(Qt::PlainText);
    m_methodStatus->setWordWrap(true);
    m_methodResponse = jsonEditor(tab, true);
    m_methodResponse->setAccessibleName(tr("Response"));

    auto *form = new QFormLayout;
    form->addRow(tr("&Method:"), m_methodName);
    auto *payloadColumn = new QVBoxLayout;
    payloadColumn->setSpacing(2);
    payloadColumn->addWidget(m_methodPayload);
    payloadColumn->addWidget(m_payloadError);
    form->addRow(tr("Payload:"), payloadColumn);
    auto *timeouts = new QHBoxLayout;
    timeouts->addWidget(m_responseTimeout);
    timeouts->addSpacing(16);
    timeouts->addWidget(new QLabel(tr("Wait for connection:"), tab));
    timeouts->addWidget(m_connectTimeout);
    timeouts->addStretch(1);
    form->addRow(tr("Answer within:"), timeouts);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_invoke);
    buttons->addWidget(m_stopWaiting);
    buttons->addWidget(m_methodStatus, 1);

    auto *layout = new QVBoxLayout(tab);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(new QLabel(tr("Response payload:"), tab));
    layout->addWidget(m_methodResponse, 1);

    const auto updateInvoke = [this] {
        const auto payload = parseJson(m_methodPayload->toPlainText(), false);
        FieldError::show(m_payloadError, payload ? QString() : payload.error().message);
        m_invoke->setEnabled(payload.has_value() && !m_methodName->text().trimmed().isEmpty() && m_methodCall == 0);
    };
    connect(m_methodName, &QLineEdit::textChanged, this, updateInvoke);
    connect(m_methodPayload, &QPlainTextEdit::textChanged, this, updateInvoke);
    connect(m_methodName, &QLineEdit::returnPressed, this, &DevicePage::invokeMethod);
    connect(m_invoke, &QPushButton::clicked, this, &DevicePage::invokeMethod);
    connect(m_stopWaiting, &QPushButton::clicked, this, [this, updateInvoke] {
        m_methodCall = 0;
        m_stopWaiting->hide();
        m_methodStatus->setText(tr("Stopped waiting. The device may still run the method."));
        updateInvoke();
    });
    updateInvoke();
    return tab;
}

QWidget *DevicePage::createConnectionTab()
{
    auto *tab = new QWidget(this);
    m_clipboard = new SecureClipboard(QGuiApplication::clipboard(), this);
    m_primaryString = new QLineEdit(tab);
    m_secondaryString = new QLineEdit(tab);
    for (QLineEdit *field : {m_primaryString, m_secondaryString}) {
        field->setReadOnly(true);
        field->setEchoMode(QLineEdit::Password);
        field->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        // Selecting and copying by hand would bypass the clearing clipboard: only the buttons copy.
        field->setContextMenuPolicy(Qt::NoContextMenu);
    }
    m_primaryString->setAccessibleName(tr("Primary connection string"));
    m_secondaryString->setAccessibleName(tr("Secondary connection string"));
    m_reveal = new QPushButton(tr("Show"), tab);
    m_reveal->setCheckable(true);
    m_reveal->setToolTip(tr("Show or hide the connection strings"));
    m_copyPrimary = new QPushButton(tr("Copy"), tab);
    m_copySecondary = new QPushButton(tr("Copy"), tab);
    m_clipboardNote = new QLabel(tab);
    m_clipboardNote->setWordWrap(true);
    m_clipboardNote->setTextFormat(Qt::PlainText);
    m_clipboardNote->setForegroundRole(QPalette::PlaceholderText);

    auto *intro = new QLabel(tr("A connection string lets whoever holds it act as this device. Hand it over only "
                                "through a safe channel; a copy leaves the clipboard by itself after a while."),
        tab);
    intro->setWordWrap(true);
    auto *exportPrimary = new QPushButton(tr("Export…"), tab);
    auto *exportSecondary = new QPushButton(tr("Export…"), tab);
    exportPrimary->setToolTip(tr("To an OpenPGP-encrypted file, a QR code, or (confirmed) a plaintext file"));
    exportSecondary->setToolTip(exportPrimary->toolTip());
    auto *primaryRow = new QHBoxLayout;
    primaryRow->addWidget(m_primaryString, 1);
    primaryRow->addWidget(m_copyPrimary);
    primaryRow->addWidget(exportPrimary);
    auto *secondaryRow = new QHBoxLayout;
    secondaryRow->addWidget(m_secondaryString, 1);
    secondaryRow->addWidget(m_copySecondary);
    secondaryRow->addWidget(exportSecondary);
    connect(exportPrimary, &QPushButton::clicked, this, [this] { exportConnectionString(false); });
    connect(exportSecondary, &QPushButton::clicked, this, [this] { exportConnectionString(true); });
    m_exportPrimary = exportPrimary;
    m_exportSecondary = exportSecondary;

    m_certificate = new QLabel(tab);
    m_certificate->setWordWrap(true);
    m_certificate->setTextFormat(Qt::PlainText);
    m_certificate->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_exportCertificate = new QPushButton(tr("Export Certificate and Key…"), tab);
    m_newCertificate = new QPushButton(tr("New Certificate…"), tab);
    m_newCertificate->setToolTip(tr("Register the device's new certificate; the one it has now stays valid as "
                                    "secondary until the next change"));
    auto *certificateRow = new QHBoxLayout;
    certificateRow->addWidget(m_exportCertificate);
    certificateRow->addWidget(m_newCertificate);
    certificateRow->addStretch(1);
    connect(m_newCertificate, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("The Device's New Certificate"), QDir::homePath(),
            tr("Certificates (*.pem *.crt *.cer);;All files (*)"));
        if (!file.isEmpty())
            registerCertificate(file);
    });
    connect(m_exportCertificate, &QPushButton::clicked, this, &DevicePage::exportCertificate);
    connect(&m_credentials, &CredentialStore::credentialsChanged, this, &DevicePage::showCertificate);
    auto *form = new QFormLayout;
    form->addRow(tr("Primary:"), primaryRow);
    form->addRow(tr("Secondary:"), secondaryRow);
    auto *revealRow = new QHBoxLayout;
    revealRow->addWidget(m_reveal);
    revealRow->addStretch(1);
    // A SAS device's keys: a new one when one leaked, or the two swapped (each after a confirmation).
    const QList<std::pair<KeyRotation::Change, QString>> keyChanges{
        {KeyRotation::Change::RegeneratePrimary, tr("New Primary Key…")},
        {KeyRotation::Change::RegenerateSecondary, tr("New Secondary Key…")},
        {KeyRotation::Change::Swap, tr("Swap Keys…")}};
    for (const auto &[change, label] : keyChanges) {
        auto *button = new QPushButton(label, tab);
        revealRow->addWidget(button);
        connect(button, &QPushButton::clicked, this, [this, change] { changeKeys(change); });
        m_keyButtons.insert(int(change), button);
    }

    auto *layout = new QVBoxLayout(tab);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addLayout(revealRow);
    layout->addWidget(m_clipboardNote);
    layout->addSpacing(12);
    auto *certificateTitle = new QLabel(tr("X.509 credential on this computer"), tab);
    QFont bold = certificateTitle->font();
    bold.setBold(true);
    certificateTitle->setFont(bold);
    layout->addWidget(certificateTitle);
    layout->addWidget(m_certificate);
    layout->addLayout(certificateRow);
    layout->addStretch(1);

    connect(m_reveal, &QPushButton::toggled, this, [this](bool shown) {
        for (QLineEdit *field : {m_primaryString, m_secondaryString})
            field->setEchoMode(shown ? QLineEdit::Normal : QLineEdit::Password);
        m_reveal->setText(shown ? tr("Hide") : tr("Show"));
    });
    const auto copy = [this](bool secondary) {
        const QString text = connectionString(secondary);
        if (text.isEmpty())
            return;
        m_clipboard->setClearAfterSeconds(m_settings.clipboardClearSeconds());
        m_clipboard->copySecret(text);
        const QString note = secondary
            ? tr("Copied the secondary connection string of \"%1\". The clipboard is cleared in "
                 "%2 seconds if it still holds it.")
            : tr("Copied the primary connection string of \"%1\". The clipboard is cleared in "
                 "%2 seconds if it still holds it.");
        m_clipboardNote->setText(note.arg(m_id).arg(m_clipboard->clearAfterSeconds()));
    };
    connect(m_copyPrimary, &QPushButton::clicked, this, [copy] { copy(false); });
    connect(m_copySecondary, &QPushButton::clicked, this, [copy] { copy(true); });
    connect(m_clipboard, &SecureClipboard::cleared, this,
        [this] { m_clipboardNote->setText(tr("The connection string was removed from the clipboard.")); });
    connect(m_clipboard, &SecureClipboard::leftAlone, m_clipboardNote, &QLabel::clear);
    return tab;
}

QString DevicePage::connectionString(bool secondary) const
{
    const DeviceIdentity &d = m_device;
    const QString host = m_session.profile().hostName;
    if (d.id.isEmpty() || host.isEmpty())
        return {};
    if (d.authType == QStringLiteral("sas")) {
        const QString key = secondary ? d.secondaryKey : d.primaryKey;
        return key.isEmpty() ? QString() : ConnectionString::deviceWithKey(host, d.id, key).toString();
    }
    if (d.authType == QStringLiteral("selfSigned") || d.authType == QStringLiteral("certificateAuthority"))
        return secondary ? QString() : ConnectionString::deviceWithX509(host, d.id).toString();
    return {};
}

void DevicePage::showConnectionStrings()
{
    const QString primary = connectionString(false);
    const QString secondary = connectionString(true);
    m_primaryString->setText(primary);
    m_secondaryString->setText(secondary);
    m_copyPrimary->setEnabled(!primary.isEmpty());
    m_copySecondary->setEnabled(!secondary.isEmpty());
    m_exportPrimary->setEnabled(!primary.isEmpty());
    m_exportSecondary->setEnabled(!secondary.isEmpty());
    for (QPushButton *button : std::as_const(m_keyButtons)) {
        button->setVisible(m_device.authType == QStringLiteral("sas"));
        button->setEnabled(!m_device.id.isEmpty() && m_session.client());
    }
    m_newCertificate->setVisible(m_device.authType == QStringLiteral("selfSigned"));
    m_newCertificate->setEnabled(!m_device.id.isEmpty() && m_session.client());
    m_secondaryString->setPlaceholderText(m_device.authType == QStringLiteral("sas") || m_device.id.isEmpty()
            ? QString()
            : tr("An X.509 device has one connection string; the certificate is its secret."));
}

void DevicePage::showCertificate()
{
    const QString hub = m_session.profile().name;
    const Result<CredentialRecord> record
        = m_id.isEmpty() ? Result<CredentialRecord>(std::unexpected(Error{})) : m_credentials.record(hub, m_id);
    m_exportCertificate->setEnabled(
        record.has_value() && record->keyLocation == CredentialRecord::KeyLocation::Keychain);
    if (!record) {
        m_certificate->setText(record.error().kind == ErrorKind::NotFound || m_id.isEmpty()
                ? tr("None: no key or certificate for this device was made or imported here.")
                : record.error().message);
        return;
    }
    const QString key = record->keyLocation == CredentialRecord::KeyLocation::Keychain
        ? tr("%1 key in the keychain as \"%2\"").arg(record->keyType, record->keychainEntry)
        : tr("%1 key made on the device; it never left it").arg(record->keyType);
    m_certificate->setText(
        tr("%1\nCertificate: %2, issued by %3, valid until %4\nThumbprints: SHA-1 %5, SHA-256 %6\nMade here %7")
            .arg(key, record->certificateFile, record->issuer,
                QLocale().toString(record->notAfter.toLocalTime(), QLocale::ShortFormat), record->thumbprintSha1,
                record->thumbprintSha256, QLocale().toString(record->createdAt.toLocalTime(), QLocale::ShortFormat)));
}

void DevicePage::exportConnectionString(bool secondary)
{
    QString text = connectionString(secondary);
    if (text.isEmpty())
        return;
    const QString what = secondary ? tr("the secondary connection string of \"%1\"").arg(m_id)
                                   : tr("the primary connection string of \"%1\"").arg(m_id);
    ExportDialog dialog(what, SecretBytes::fromString(std::move(text)), m_settings, this);
    if (m_device.authType == QStringLiteral("sas")) {
        // A key's connection string is handed over as one that expires (a device SAS token, no key) unless the user
        // chooses otherwise.
        dialog.offerExpiry([host = m_session.profile().hostName, id = m_device.id,
                               key = QString(secondary ? m_device.secondaryKey : m_device.primaryKey)](
                               qint64 seconds) -> Result<SecretBytes> {
            auto made = ConnectionString::deviceWithExpiringToken(
                host, id, SecretBytes::fromString(QString(key)), QDateTime::currentSecsSinceEpoch() + seconds);
            if (!made)
                return std::unexpected(made.error());
            return SecretBytes::fromString(made->toString());
        });
    }
    dialog.exec();
}

void DevicePage::changeKeys(KeyRotation::Change change)
{
    HubClient *client = m_session.client();
    if (!client || m_device.id.isEmpty())
        return;
    auto changed = KeyRotation::apply(m_device, change); // the identity as last read, its ETag with it
    if (!changed) {
        showFailure(changed.error());
        return;
    }
    const QString title = change == KeyRotation::Change::Swap ? tr("Swap Keys") : tr("New Key");
    QMessageBox confirm(QMessageBox::Warning, title, KeyRotation::consequence(m_device, change),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    confirm.setInformativeText(change == KeyRotation::Change::Swap ? tr("Swap the keys of \"%1\"?").arg(m_id)
                                                                   : tr("Change the key of \"%1\"?").arg(m_id));
    confirm.setDefaultButton(QMessageBox::Cancel);
    confirm.button(QMessageBox::Yes)->setText(change == KeyRotation::Change::Swap ? tr("Swap") : tr("Make New Key"));
    if (confirm.exec() != QMessageBox::Yes)
        return;
    writeCredentials(*changed,
        change == KeyRotation::Change::Swap                    ? tr("Swapped the keys of \"%1\".").arg(m_id)
            : change == KeyRotation::Change::RegeneratePrimary ? tr("Made a new primary key for \"%1\".").arg(m_id)
                                                               : tr("Made a new secondary key for \"%1\".").arg(m_id));
}

void DevicePage::registerCertificate(const QString &pemFile)
{
    if (!m_session.client() || m_device.id.isEmpty())
        return;
    QFile file(pemFile);
    if (!file.open(QIODevice::ReadOnly)) {
        showFailure({ErrorKind::InvalidInput, QStringLiteral("CertificateUnreadable"),
            tr("Cannot read %1: %2").arg(pemFile, file.errorString())});
        return;
    }
    const auto certificate = Certificate::fromPem(file.readAll());
    if (!certificate) {
        showFailure(certificate.error());
        return;
    }
    const QString thumbprint = certificate->thumbprintSha1();
    auto changed = KeyRotation::replaceThumbprint(m_device, thumbprint);
    if (!changed) {
        showFailure(changed.error());
        return;
    }
    QMessageBox confirm(QMessageBox::Warning, tr("New Certificate"),
        KeyRotation::thumbprintConsequence(m_device, thumbprint), QMessageBox::Yes | QMessageBox::Cancel, this);
    confirm.setInformativeText(tr("Register the new certificate of \"%1\"?").arg(m_id));
    confirm.setDefaultButton(QMessageBox::Cancel);
    confirm.button(QMessageBox::Yes)->setText(tr("Register"));
    if (confirm.exec() != QMessageBox::Yes)
        return;
    writeCredentials(
        *changed, tr("Registered the new certificate of \"%1\"; the one before stays valid as secondary.").arg(m_id));
}

void DevicePage::writeCredentials(const DeviceIdentity &changed, const QString &done)
{
    HubClient *client = m_session.client();
    if (!client)
        return;
    for (QPushButton *button : std::as_const(m_keyButtons))
        button->setEnabled(false);
    m_newCertificate->setEnabled(false);
    setLoading(true);
    const quint64 generation = m_generation;
    QPointer<DevicePage> self(this);
    // Written back under the ETag read: a change made elsewhere in between is refused, not overwritten.
    client->updateDevice(changed).then(client, [this, self, generation, done](Result<DeviceIdentity> updated) {
        if (!self)
            return;
        setLoading(false);
        if (generation != m_generation)
            return;
        if (!updated) {
            showFailure(updated.error());
            reloadDevice(false);
            return;
        }
        m_device = *updated;
        showDevice();
        Q_EMIT statusMessage(done);
        Q_EMIT deviceChanged(m_id);
    });
}

void DevicePage::exportCertificate()
{
    const QString id = m_id;
    m_exportCertificate->setEnabled(false);
    m_credentials.deviceCredential(m_session.profile().name, id)
        .then(this, [this, id](Result<DeviceCredential> credential) {
            m_exportCertificate->setEnabled(true);
            if (!credential) {
                showFailure(credential.error());
                return;
            }
            ExportDialog dialog(tr("the certificate and private key of \"%1\"").arg(id), *credential, m_settings, this);
            dialog.exec();
        });
}

void DevicePage::open(const QString &deviceId)
{
    m_id = deviceId;
    m_device = {};
    m_twin = {};
    m_methodCall = 0;
    m_stopWaiting->hide();
    m_methodStatus->clear();
    m_methodResponse->clear();
    m_checkResults->clear();
    m_reveal->setChecked(false);
    m_clipboardNote->clear();
    m_title->setText(deviceId);
    m_tabs->setCurrentIndex(0);
    m_telemetryTab->setDeviceId(deviceId);
    m_messagesTab->setDeviceId(deviceId);
    m_modulesTab->setDeviceId(deviceId);
    showDevice();
    showTwin();
    reload();
}

void DevicePage::setLoading(bool loading)
{
    m_loading += loading ? 1 : -1;
    setCursor(m_loading > 0 ? Qt::BusyCursor : Qt::ArrowCursor);
}

void DevicePage::showFailure(const Error &error)
{
    FieldError::show(m_failure, error.message);
}

void DevicePage::reload()
{
    HubClient *client = m_session.client();
    if (!client || m_id.isEmpty())
        return;
    const quint64 generation = ++m_generation;
    FieldError::show(m_failure, {});
    reloadDevice(true);
    setLoading(true);
    client->twin(m_id).then(this, [this, generation](Result<DeviceTwin> twin) {
        setLoading(false);
        if (generation != m_generation)
            return;
        if (!twin) {
            showFailure(twin.error());
            return;
        }
        m_twin = *twin;
        showTwin();
    });
}

void DevicePage::reloadDevice(bool busy)
{
    HubClient *client = m_session.client();
    if (!client || m_id.isEmpty())
        return;
    const quint64 generation = m_generation;
    const quint64 request = ++m_deviceRequest;
    if (busy)
        setLoading(true);
    // Asked every so often and after each message: the answer may come after this page is gone (Qt 6.4 asserts
    // on a continuation whose context died), so it runs in the client's context and looks for the page.
    QPointer<DevicePage> self(this);
    client->device(m_id).then(client, [this, self, busy, generation, request](Result<DeviceIdentity> device) {
        if (!self)
            return;
        if (busy)
            setLoading(false);
        if (generation != m_generation || request != m_deviceRequest)
            return;
        if (!device) {
            showFailure(device.error());
            return;
        }
        m_device = *device;
        showDevice();
    });
}

void DevicePage::showDevice()
{
    const DeviceIdentity &d = m_device;
    const bool known = !d.id.isEmpty();
    const bool enabled = d.status != QStringLiteral("disabled");
    m_status->setText(!known           ? tr("…")
            : enabled                  ? tr("Enabled")
            : d.statusReason.isEmpty() ? tr("Disabled")
                                       : tr("Disabled (%1)").arg(d.statusReason));
    m_toggleEnabled->setText(enabled ? tr("Disable") : tr("Enable"));
    m_toggleEnabled->setEnabled(known);
    showConnectionStrings();
    showCertificate();
    if (!known) {
        for (QLabel *label : {m_connection, m_lastActivity, m_auth, m_queued, m_etag})
            label->setText(tr("…"));
        m_telemetryTab->setConnectionState(false, QString());
        m_messagesTab->setQueueDepth(-1);
        return;
    }
    m_connection->setText(d.connectionState == QStringLiteral("Connected")
            ? tr("Connected, since %1").arg(timeText(d.connectionStateUpdated))
            : tr("Disconnected, since %1").arg(timeText(d.connectionStateUpdated)));
    m_lastActivity->setText(timeText(d.lastActivity));
    if (d.authType == QStringLiteral("sas"))
        m_auth->setText(tr("Symmetric key (SAS)"));
    else if (d.authType == QStringLiteral("selfSigned"))
        m_auth->setText(d.secondaryThumbprint.isEmpty()
                ? tr("X.509 self-signed, thumbprint %1").arg(d.primaryThumbprint)
                : tr("X.509 self-signed, thumbprints %1 and %2").arg(d.primaryThumbprint, d.secondaryThumbprint));
    else if (d.authType == QStringLiteral("certificateAuthority"))
        m_auth->setText(tr("X.509 signed by a CA"));
    else
        m_auth->setText(d.authType);
    m_queued->setText(QLocale().toString(d.cloudToDeviceMessageCount));
    m_telemetryTab->setConnectionState(d.connectionState == QStringLiteral("Connected"), m_connection->text());
    m_messagesTab->setQueueDepth(d.cloudToDeviceMessageCount);
    m_etag->setText(d.etag);
}

void DevicePage::showTwin()
{
    if (m_twin.isNull()) {
        m_twinView->clear();
        m_twinEdit->clear();
        m_twinEdit->setEnabled(false);
        m_applyTwin->setEnabled(false);
        return;
    }
    m_twinView->setPlainText(prettyJson(m_twin.document));
    m_twinEdit->setEnabled(true);
    m_twinEdit->setPlainText(prettyJson(m_twin.editable()));
    checkTwinSyntax();
}

void DevicePage::checkTwinSyntax()
{
    const auto edited = parseJson(m_twinEdit->toPlainText(), true);
    QString problem = edited ? QString() : edited.error().message;
    if (edited) {
        if (const auto change = DeviceTwin::parseEditable(edited->toObject()); !change)
            problem = change.error().message;
    }
    FieldError::show(m_twinError, problem);
    m_applyTwin->setEnabled(problem.isEmpty() && !m_twin.isNull());
}

void DevicePage::applyTwin()
{
    HubClient *client = m_session.client();
    const auto edited = parseJson(m_twinEdit->toPlainText(), true);
    if (!client || !edited || m_twin.isNull())
        return;
    const auto change = DeviceTwin::parseEditable(edited->toObject());
    if (!change)
        return;
    const QString etag = m_twin.etag;
    const quint64 generation = m_generation;
    m_applyTwin->setEnabled(false);
    setLoading(true);
    client->updateTwin(m_id, change->toJson(), etag, true).then(this, [this, generation](Result<DeviceTwin> updated) {
        setLoading(false);
        if (generation != m_generation)
            return;
        if (updated) {
            m_twin = *updated;
            showTwin();
            Q_EMIT statusMessage(tr("Saved the twin of \"%1\".").arg(m_id));
            Q_EMIT deviceChanged(m_id);
            return;
        }
        checkTwinSyntax();
        if (updated.error().code == QStringLiteral("PreconditionFailed")) {
            const auto answer = QMessageBox::warning(this, tr("Twin Changed"),
                tr("The twin of \"%1\" was changed by someone else after it was loaded here, so your changes were not "
                   "saved.\n\nReload it (your changes are lost), or keep editing and copy them out first?")
                    .arg(m_id),
                QMessageBox::Reset | QMessageBox::Cancel, QMessageBox::Reset);
            if (answer == QMessageBox::Reset)
                reload();
            return;
        }
        FieldError::show(m_twinError, updated.error().message);
    });
}

void DevicePage::invokeMethod()
{
    HubClient *client = m_session.client();
    const QString name = m_methodName->text().trimmed();
    const auto payload = parseJson(m_methodPayload->toPlainText(), false);
    if (!client || name.isEmpty() || !payload || m_methodCall != 0)
        return;
    static quint64 calls = 0;
    const quint64 call = ++calls;
    m_methodCall = call;
    m_invoke->setEnabled(false);
    m_stopWaiting->show();
    m_methodResponse->clear();
    m_methodStatus->setText(tr("Waiting for \"%1\" to answer…").arg(m_id));
    const QString id = m_id;
    client->invokeMethod(id, name, *payload, m_responseTimeout->value(), m_connectTimeout->value())
        .then(this, [this, call, id, name](Result<MethodResult> result) {
            if (call != m_methodCall)
                return; // stopped waiting, or another device is shown
            m_methodCall = 0;
            m_stopWaiting->hide();
            m_invoke->setEnabled(true);
            if (!result) {
                m_methodStatus->setText(result.error().message);
                return;
            }
            m_methodStatus->setText(tr("\"%1\" answered %2 with status %3.").arg(id, name).arg(result->status));
            m_methodResponse->setPlainText(prettyJson(result->payload));
        });
}

void DevicePage::runCheck()
{
    HubClient *client = m_session.client();
    if (!client || m_id.isEmpty())
        return;
    DeviceCheckOptions options;
    options.ping = m_ping->isChecked();
    const quint64 generation = m_generation;
    m_check->setEnabled(false);
    m_checkResults->clear();
    new QTreeWidgetItem(m_checkResults, QStringList{tr("Checking…")});
    checkDevice(*client, m_id, options).then(this, [this, generation](Result<QList<DeviceCheckItem>> items) {
        m_check->setEnabled(true);
        if (generation != m_generation)
            return;
        m_checkResults->clear();
        if (!items) {
            new QTreeWidgetItem(m_checkResults, {tr("Check"), items.error().message});
            return;
        }
        const auto question = [](DeviceCheckItem::Question asked) {
            switch (asked) {
            case DeviceCheckItem::Question::Registered: return tr("Registered?");
            case DeviceCheckItem::Question::Enabled: return tr("Enabled?");
            case DeviceCheckItem::Question::Connected: return tr("Connected?");
            case DeviceCheckItem::Question::LastActivity: return tr("Last activity?");
            case DeviceCheckItem::Question::Reported: return tr("Last reported?");
            case DeviceCheckItem::Question::Ping: return tr("Answers a ping?");
            }
            return QString();
        };
        for (const DeviceCheckItem &item : *items) {
            auto *row = new QTreeWidgetItem(m_checkResults, {question(item.question), item.sentence});
            QStyle::StandardPixmap icon = QStyle::SP_DialogApplyButton;
            switch (item.verdict) {
            case DeviceCheckItem::Verdict::Good: icon = QStyle::SP_DialogApplyButton; break;
            case DeviceCheckItem::Verdict::Warning: icon = QStyle::SP_MessageBoxWarning; break;
            case DeviceCheckItem::Verdict::Problem: icon = QStyle::SP_MessageBoxCritical; break;
            case DeviceCheckItem::Verdict::Skipped: icon = QStyle::SP_MessageBoxInformation; break;
            }
            row->setIcon(0, style()->standardIcon(icon));
            row->setData(0, Qt::UserRole, DeviceCheckItem::verdictName(item.verdict));
            row->setData(0, Qt::UserRole + 1, item.key);
            row->setToolTip(1, item.sentence);
        }
    });
}

void DevicePage::toggleEnabled()
{
    HubClient *client = m_session.client();
    if (!client || m_device.id.isEmpty())
        return;
    DeviceIdentity changed = m_device;
    const bool enable = changed.status == QStringLiteral("disabled");
    changed.status = enable ? QStringLiteral("enabled") : QStringLiteral("disabled");
    m_toggleEnabled->setEnabled(false);
    const quint64 generation = m_generation;
    client->updateDevice(changed).then(this, [this, generation, enable](Result<DeviceIdentity> updated) {
        if (generation != m_generation)
            return;
        if (!updated) {
            showFailure(updated.error());
            reload();
            return;
        }
        m_device = *updated;
        showDevice();
        Q_EMIT statusMessage(enable ? tr("Enabled \"%1\".").arg(m_id) : tr("Disabled \"%1\".").arg(m_id));
        Q_EMIT deviceChanged(m_id);
    });
}

} // namespace Onboarder
