// One fault test at a time: each starts server processes and hundreds of agents on two shared cores, and one stops
// the fault cluster that the others' databases live in.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
