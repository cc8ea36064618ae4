// PortFinder and PortDiagnosis with the simulator's pseudo-terminal as the port.
#include "modem/portdiagnosis.h"
#include "modem/portfinder.h"
#include "modemsimfixture.h"

#include <QSignalSpy>

using namespace Onboarder;

class tst_PortFinder : public QObject
{
    Q_OBJECT

    TestSupport::ModemSim m_sim;

private Q_SLOTS:
    void extraPortsAppearAndVanish()
    {
        QVERIFY(m_sim.start().isEmpty());
        qputenv(PortFinder::extraPortsVariable, "/nonexistent/one:" + m_sim.port().toUtf8());
        PortFinder finder;
        QSignalSpy changed(&finder, &PortFinder::portsChanged);
        finder.startWatching(50);
        const auto ports = finder.ports();
        const auto sim
            = std::find_if(ports.cbegin(), ports.cend(), [this](const ModemPort &p) { return p.path == m_sim.port(); });
        QVERIFY(sim != ports.cend());
        QVERIFY(sim->extra);
        QCOMPARE(sim->role, ModemPort::Role::Unknown);
        QVERIFY(std::none_of(ports.cbegin(), ports.cend(),
            [](const ModemPort &p) { return p.path == QStringLiteral("/nonexistent/one"); }));
        QCOMPARE(PortFinder::choose(ports).value_or(ModemPort{}).path, m_sim.port());

        // Proven by probing: the AT port.
        const auto probed = TestSupport::await(finder.probe({*sim}));
        QVERIFY(probed);
        QCOMPARE(probed->role, ModemPort::Role::At);
        QVERIFY(finder.ports().at(std::distance(ports.cbegin(), sim)).probed);

        // Unplugged: the watcher notices.
        const int before = int(changed.size());
        m_sim.stop();
        QTRY_VERIFY(changed.size() > before);
        const auto after = finder.ports();
        QVERIFY(
            std::none_of(after.cbegin(), after.cend(), [this](const ModemPort &p) { return p.path == m_sim.port(); }));
        QCOMPARE(PortFinder::choose(after).error().code, QStringLiteral("NoModem"));
        qunsetenv(PortFinder::extraPortsVariable);
    }

    void probingAPortWithoutAtHostFails()
    {
        // A pseudo-terminal nobody answers on.
        QVERIFY(m_sim.start({QStringLiteral("--slow-ms"), QStringLiteral("5000")}).isEmpty());
        PortFinder finder;
        ModemPort silent;
        silent.path = m_sim.port();
        const auto probed = TestSupport::await(finder.probe({silent}));
        QVERIFY(!probed);
        QCOMPARE(probed.error().code, QStringLiteral("NoAtPort"));
    }

    void whoHoldsThePort()
    {
        QVERIFY(m_sim.start().isEmpty());
        QProcess holder;
        holder.setStandardInputFile(m_sim.port());
        holder.start(QStringLiteral("sleep"), {QStringLiteral("30")});
        QVERIFY(holder.waitForStarted());
        QTRY_VERIFY(!PortDiagnosis::holders(m_sim.port()).isEmpty());
        const auto holders = PortDiagnosis::holders(m_sim.port());
        QCOMPARE(holders.first().name, QStringLiteral("sleep"));
        QCOMPARE(holders.first().pid, holder.processId());
        const QString busy
            = PortDiagnosis::explainOpenFailure(m_sim.port(), QSerialPort::PermissionError, QStringLiteral("busy"));
        QVERIFY2(
            busy.contains(QStringLiteral("in use by sleep (process %1)").arg(holder.processId())), qPrintable(busy));
        holder.kill();
        holder.waitForFinished();

        const QString missing
            = PortDiagnosis::explainOpenFailure(QStringLiteral("/dev/ttyACM99"), QSerialPort::DeviceNotFoundError, {});
        QVERIFY(missing.contains(QStringLiteral("There is no serial port /dev/ttyACM99")));
    }
};

QTEST_GUILESS_MAIN(tst_PortFinder)
#include "tst_portfinder.moc"
