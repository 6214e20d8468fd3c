using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class JobAdviceTests
{
    [Theory]
    [InlineData(JobErrorCodes.LeaseLapsed)]
    [InlineData(JobErrorCodes.DeviceOffline)]
    public void A_job_failed_because_its_device_went_silent_is_advised_to_check_the_device_not_told_it_rolled_back(string code)
    {
        var advice = JobAdvice.For(JobStatus.Failed, code);

        Assert.NotNull(advice);
        Assert.Contains("check the device is on", advice, StringComparison.Ordinal);
        Assert.DoesNotContain("rolled back", advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_jobs_that_did_not_finish_cleanly_are_failures_with_advice()
    {
        foreach (var status in Enum.GetValues<JobStatus>())
        {
            Assert.Equal(JobAdvice.IsFailure(status), JobAdvice.For(status, null) is not null);
        }
        Assert.Equal([JobStatus.Exceptions, JobStatus.Failed, JobStatus.Stopped], JobAdvice.FailureStatuses);
    }
}
