using System.Runtime.Versioning;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

[assembly: SupportedOSPlatform("linux")]

// A Re-ACL walk in its own process, so a test can kill it with SIGKILL half-way (NtfsWalkTests). Arguments: the tree
// on an ntfs-3g volume, the SID map file (source<TAB>destination a line), the checkpoint file, the undo journal file.
if (args.Length != 4)
{
    await Console.Error.WriteLineAsync("usage: Rehome.Security.WalkProcess <tree> <sid-map> <checkpoint> <undo-journal>");
    return 2;
}

var map = new SidMap();
foreach (var line in File.ReadLines(args[1]))
{
    var pair = line.Split('\t');
    map.Add(SecurityIdentifier.Parse(pair[0]), SecurityIdentifier.Parse(pair[1]));
}

// Checkpoints every 100 items, so the test sees progress early and kills the walk well before its end.
var options = new WalkOptions { CheckpointFile = args[2], UndoJournalFile = args[3], CheckpointInterval = 100 };
var result = new SecurityWalker(new NtfsSecurityStore(), map, new TranslationOptions(), options).Walk([args[0]], []);
Console.WriteLine($"finished: seen {result.Seen}, changed {result.Changed}, failed {result.Failed}");
return 0;
