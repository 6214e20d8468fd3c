using Rehome.Protocol;

namespace Rehome.Agent.Jobs.RegisterAutopilot;

/// <summary>Reads the hardware hash and has the server import it into the destination tenant's Autopilot, then follows the import to its end.</summary>
public sealed class ImportAutopilotStep : JobStep
{
    public override async Task RunAsync(JobContext context)
    {
        var hardware = await context.Platform.GetHardwareIdentityAsync(context.Cancellation);
        context.Log.Information($"Hardware hash read (serial number {hardware.SerialNumber}).");
        var wait = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            var request = new DirectoryActionRequest
            {
                LeaseToken = context.Assignment.LeaseToken,
                Action = DirectoryAction.ImportAutopilotDevice,
                SerialNumber = hardware.SerialNumber,
                HardwareHash = hardware.HardwareHash,
            };
            var answer = await context.CallServerAsync(ct => context.Gateway.RunDirectoryActionAsync(context.JobId, request, ct));
            switch (answer.State)
            {
                case DirectoryActionState.Done:
                    foreach (var item in answer.Items)
                    {
                        context.Report(item);
                    }
                    context.SetProgress(1, 1, 1, 0);
                    context.Log.Information(answer.Message ?? "Imported into Autopilot.");
                    return;
                case DirectoryActionState.Failed:
                    throw new StepFailedException("AutopilotImportFailed", answer.Message ?? "The Autopilot import failed.");
            }
            context.Message = answer.Message ?? "Autopilot import under way";
            await Task.Delay(wait, context.Time, context.Cancellation);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }
}
