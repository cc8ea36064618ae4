#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QStackedWidget;
class QTableView;

namespace Onboarder {

class HubListModel;
class HubStore;
class Settings;

// Hubs this computer knows: add one by pasting its connection string, make one current, remove one.
class HubsPage final : public QWidget
{
    Q_OBJECT

public:
    HubsPage(HubStore &hubs, Settings &settings, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    HubListModel *model() const { return m_model; }

public Q_SLOTS:
    void addHub();
    void removeSelectedHub();
    void makeSelectedHubCurrent();
    void editSelectedHubsEventHub();

Q_SIGNALS:
    void statusMessage(const QString &message);

private:
    QString selectedHub() const;
    void updateState();
    void selectHub(const QString &name);

    HubStore &m_hubs;
    Settings &m_settings;
    HubListModel *m_model;
    QStackedWidget *m_stack;
    QTableView *m_view;
    QPushButton *m_add;
    QPushButton *m_remove;
    QPushButton *m_makeCurrent;
    QPushButton *m_eventHub;
    QLabel *m_details;
};

} // namespace Onboarder
