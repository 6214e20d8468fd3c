using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Updates;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Updates;

/// <summary>The self-update's decisions: when, which offer, which package, and the rollback when a new version does not check in.</summary>
public sealed class UpdateDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A zip with one file, its offer, and the publisher key that signed it.</summary>
    internal sealed record SignedPackage(byte[] Content, AgentUpdateOffer Offer, byte[] PublisherKey)
    {
        public static SignedPackage Make(string version, AsymmetricAlgorithm? signer = null)
        {
            using var buffer = new MemoryStream();
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                using var writer = new StreamWriter(zip.CreateEntry("rehome-agent.dll").Open());
                writer.Write("agent " + version);
            }
            var content = buffer.ToArray();
            var hash = SHA256.HashData(content);
            signer ??= ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var (signature, key) = signer switch
            {
                ECDsa ecdsa => (ecdsa.SignHash(hash, DSASignatureFormat.Rfc3279DerSequence), ecdsa.ExportSubjectPublicKeyInfo()),
                RSA rsa => (rsa.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), rsa.ExportSubjectPublicKeyInfo()),
                _ => throw new ArgumentException("ECDSA or RSA", nameof(signer)),
            };
            return new SignedPackage(content, new AgentUpdateOffer(Guid.NewGuid(), version, content.Length, Convert.ToHexStringLower(hash), Convert.ToBase64String(signature)), key);
        }
    }

    [Fact]
    public void An_agent_with_a_job_journal_open_is_not_at_a_safe_point()
    {
        using var device = new DeviceFixture();
        device.Journal.Update(r => r with { RunningStep = "LeaveSource" });

        var point = UpdateDecisions.SafePointOf(JobJournal.Unfinished(Path.GetDirectoryName(device.Journal.Folder)!));

        Assert.False(point.IsSafe);
        Assert.Contains("LeaveSource", point.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_agent_whose_journals_are_all_closed_is_at_a_safe_point()
    {
        using var device = new DeviceFixture();
        device.Journal.Update(r => r with { Phase = JournalPhase.Closed });

        Assert.True(UpdateDecisions.SafePointOf(JobJournal.Unfinished(Path.GetDirectoryName(device.Journal.Folder)!)).IsSafe);
    }

    [Fact]
    public void A_package_signed_by_the_publisher_with_the_offered_hash_is_good_with_ECDSA_and_RSA()
    {
        var ecdsa = SignedPackage.Make("2.0.0");
        using var rsaKey = RSA.Create(2048);
        var rsa = SignedPackage.Make("2.0.0", rsaKey);

        Assert.Equal(PackageVerdict.Good, UpdateDecisions.Verify(ecdsa.Offer, ecdsa.Content, [ecdsa.PublisherKey]));
        Assert.Equal(PackageVerdict.Good, UpdateDecisions.Verify(rsa.Offer, rsa.Content, [ecdsa.PublisherKey, rsa.PublisherKey]));
    }

    [Fact]
    public void A_package_signed_by_another_key_than_the_agents_is_refused_even_when_the_server_vouches_for_its_hash()
    {
        var package = SignedPackage.Make("2.0.0");
        var other = SignedPackage.Make("2.0.0");

        Assert.Equal(PackageVerdict.SignatureInvalid, UpdateDecisions.Verify(package.Offer, package.Content, [other.PublisherKey]));
    }

    [Fact]
    public void A_package_whose_hash_is_not_the_offered_one_is_refused()
    {
        var package = SignedPackage.Make("2.0.0");
        var tampered = (byte[])package.Content.Clone();
        tampered[^1] ^= 0xFF;

        Assert.Equal(PackageVerdict.HashMismatch, UpdateDecisions.Verify(package.Offer, tampered, [package.PublisherKey]));
    }

    [Fact]
    public void An_agent_without_a_publisher_key_refuses_every_package()
    {
        var package = SignedPackage.Make("2.0.0");

        Assert.Equal(PackageVerdict.NoPublisherKey, UpdateDecisions.Verify(package.Offer, package.Content, []));
    }

    [Fact]
    public void A_version_that_rolled_back_on_this_device_is_not_tried_again_and_the_installed_one_is_not_taken_again()
    {
        var offer = SignedPackage.Make("2.0.0").Offer;
        var record = new UpdateRecord { FromVersion = "1.0.0", ToVersion = "2.0.0", PackageId = offer.PackageId, Phase = UpdatePhase.RolledBack, FailedVersions = ["2.0.0"] };

        Assert.Equal(OfferDecision.FailedBefore, UpdateDecisions.Consider(offer, "1.0.0", record));
        Assert.Equal(OfferDecision.Nothing, UpdateDecisions.Consider(offer, "2.0.0", null));
        Assert.Equal(OfferDecision.Update, UpdateDecisions.Consider(offer, "1.0.0", null));
    }

    [Fact]
    public void The_new_version_checks_in_only_before_its_deadline_and_the_previous_one_back_reports_the_rollback()
    {
        var record = new UpdateRecord { FromVersion = "1.0.0", ToVersion = "2.0.0", PackageId = Guid.NewGuid(), Phase = UpdatePhase.HandedOver, Deadline = Now };

        Assert.Equal(StartAction.CheckIn, UpdateDecisions.AtStart(record, "2.0.0", Now));
        Assert.Equal(StartAction.TooLate, UpdateDecisions.AtStart(record, "2.0.0", Now.AddSeconds(1)));
        Assert.Equal(StartAction.ReportRollback, UpdateDecisions.AtStart(record, "1.0.0", Now));
        Assert.Equal(StartAction.Nothing, UpdateDecisions.AtStart(record with { Phase = UpdatePhase.Confirmed, Reported = true }, "2.0.0", Now));
    }

    [Fact]
    public async Task The_watchdog_restores_the_previous_version_when_the_new_one_does_not_check_in_by_its_deadline()
    {
        using var device = new DeviceFixture();
        var time = new FakeTimeProvider(Now);
        var installation = new SimulatedAgentInstallation(device.Platform.Folder, time, NullLogger.Instance);
        var state = new UpdateState(device.Folder);
        var record = new UpdateRecord { FromVersion = "1.0.0", ToVersion = "2.0.0", PackageId = Guid.NewGuid(), Phase = UpdatePhase.HandedOver, Deadline = Now.AddMinutes(5) };
        state.Save(record);
        await installation.HandOverAsync(record, device.Folder, state, CancellationToken.None);
        Assert.Equal("2.0.0", installation.InstalledVersion);

        var watching = UpdateWatchdog.RunAsync(state, installation, time, NullLogger.Instance, CancellationToken.None);
        Assert.False(watching.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var rolledBack = await watching;

        Assert.True(rolledBack);
        Assert.Equal("1.0.0", installation.InstalledVersion);
        var after = state.Load()!;
        Assert.Equal(UpdatePhase.RolledBack, after.Phase);
        Assert.Contains("2.0.0", after.FailedVersions);
    }

    [Fact]
    public async Task The_watchdog_leaves_a_new_version_that_checked_in()
    {
        using var device = new DeviceFixture();
        var time = new FakeTimeProvider(Now);
        var installation = new SimulatedAgentInstallation(device.Platform.Folder, time, NullLogger.Instance);
        var state = new UpdateState(device.Folder);
        var record = new UpdateRecord { FromVersion = "1.0.0", ToVersion = "2.0.0", PackageId = Guid.NewGuid(), Phase = UpdatePhase.HandedOver, Deadline = Now.AddMinutes(5) };
        state.Save(record);
        await installation.HandOverAsync(record, device.Folder, state, CancellationToken.None);

        var watching = UpdateWatchdog.RunAsync(state, installation, time, NullLogger.Instance, CancellationToken.None);
        state.Save(record with { Phase = UpdatePhase.Confirmed });
        time.Advance(TimeSpan.FromMinutes(10));

        Assert.False(await watching);
        Assert.Equal("2.0.0", installation.InstalledVersion);
    }
}
